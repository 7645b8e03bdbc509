using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>A loaded network. Its modules carry the Hugging Face state_dict names, so adapters are injected by name.</summary>
public interface ILanguageModel
{
    /// <summary>The network as a module: parameters, named_modules, to(device), train()/eval().</summary>
    nn.Module Module { get; }
    ModelConfig Config { get; }
}

/// <summary>Decoder-only language models (Llama, Mistral, Qwen2/3, GPT-2).</summary>
public interface ICausalLanguageModel : ILanguageModel
{
    /// <summary>Next-token logits [batch, seq, vocab]. attentionMask is 1 for tokens and 0 for padding (left or right).</summary>
    Tensor Logits(Tensor inputIds, Tensor attentionMask);

    /// <summary>
    /// Next-token logits [batch, vocab] at one position per row, positions [batch] (e.g. each prompt's last token):
    /// the same numbers as <see cref="Logits"/> there, but the LM head (and its adapter) runs on those positions only,
    /// not on every position of the full vocabulary.
    /// </summary>
    Tensor LogitsAt(Tensor inputIds, Tensor attentionMask, Tensor positions);
}

/// <summary>Encoders with a sequence-classification head (BERT, RoBERTa, MiniLM).</summary>
public interface ISequenceClassifier : ILanguageModel
{
    int NumLabels { get; }
    /// <summary>Class logits [batch, labels].</summary>
    Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null);
}

/// <summary>
/// Encoders with a multiple-choice head (BertForMultipleChoice): one logit per (question, choice) pair, read as a
/// sentence pair.
/// </summary>
public interface IMultipleChoiceModel : ILanguageModel
{
    /// <summary>Choice logits [questions, choices] for token ids, attention mask and token types [questions, choices, seq].</summary>
    Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null);
}
