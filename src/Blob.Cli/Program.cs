Console.WriteLine(TorchSharp.torch.randn(2, 2).sum().item<float>());
