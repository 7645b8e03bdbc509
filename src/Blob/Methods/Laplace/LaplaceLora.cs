using Blob.Data;
using Blob.Evaluation;
using Blob.Layers;
using Blob.Methods;
using Blob.Runtime;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// LAP, Laplace-LoRA (Yang et al. 2024): a post-hoc Laplace approximation over the LoRA weights θ of a trained MAP model,
///     p(θ | D) ≈ N(θ_MAP, Σ),   Σ = (H + δI)⁻¹,   H = Σ_blocks N·Ḡ⊗Ā  (K-FAC of the GGN, one block per LoRA matrix),
/// with the prior precision δ tuned by the Laplace marginal likelihood and predictions from the linearised model
/// f(x) ~ N(f_MAP(x), J Σ Jᵀ) over the class logits.
///
/// Curvature: the exact GGN of softmax cross-entropy, whose Hessian wrt the logits is H = diag(p) − ppᵀ = Σ_d d dᵀ for
/// a few directions d on the logits, one backward pass each (<see cref="HessianRoots"/>). A token's output gradients
/// g_d = J_t d (J_t = ∂f/∂s_t) then sum to Σ_d g_d g_dᵀ = J_t H J_tᵀ, its exact GGN term. This is deterministic, unlike
/// the sampled "MC Fisher", and equals the dense GGN block exactly for one example with one token.
/// Tokens (K-FAC-expand, as ASDL in Laplace-LoRA's code): a weight shared over the T tokens of an example adds
/// Σ_t a_t a_tᵀ to the input factor and Σ_t g_t g_tᵀ to the output-gradient factor; padding tokens (attention mask 0)
/// are left out of the input factor (their output gradients are zero anyway).
/// </summary>
public sealed class LaplaceLora : IDisposable
{
    readonly IClassifier _classifier;
    readonly IReadOnlyList<LoraAdapter> _adapters;
    readonly LaplaceOptions _options;
    readonly Generator _generator;

    /// <summary>The K-FAC blocks, two per adapter in the order A₀, B₀, A₁, B₁, ...</summary>
    public IReadOnlyList<KroneckerBlock> Blocks { get; }
    /// <summary>N, the number of training examples the curvature was summed over.</summary>
    public long DataCount { get; }
    /// <summary>log p(D | θ_MAP) = Σ_n log softmax(f_n)[y_n] over the training data.</summary>
    public double LogLikelihood { get; }
    /// <summary>The prior precision δ in use (given, or tuned by <see cref="Fit"/>).</summary>
    public double PriorPrecision { get; set; }
    public long ParameterCount => Blocks.Sum(b => b.ParameterCount);

    LaplaceLora(IClassifier classifier, IReadOnlyList<LoraAdapter> adapters, LaplaceOptions options,
        IReadOnlyList<KroneckerBlock> blocks, long dataCount, double logLikelihood)
    {
        _classifier = classifier;
        _adapters = adapters;
        _options = options;
        _generator = new Generator(options.Seed);
        Blocks = blocks;
        DataCount = dataCount;
        LogLikelihood = logLikelihood;
        PriorPrecision = options.PriorPrecision ?? 1.0;
    }

    /// <summary>
    /// Sums the K-FAC factors of the chosen LoRA matrices over the training data at the current (MAP) weights, then
    /// tunes the prior precision unless the options fix it. Puts the model in eval mode. <paramref name="progress"/>
    /// hears (examples done, examples in all) after every batch. <paramref name="passPerClass"/> takes the textbook C
    /// backward passes per batch instead of the fewest (<see cref="HessianRoots"/>): the same factors, slower; it is
    /// there to check and time the fewest against.
    /// </summary>
    public static LaplaceLora Fit(IClassifier classifier, IBatchSource train, LaplaceOptions options, Device device,
        CancellationToken cancel = default, Action<int, int>? progress = null, bool passPerClass = false)
    {
        if (train.Count == 0) throw new BlobException("the Laplace approximation needs training data, and the set is empty");
        var named = ChooseAdapters(classifier.Module, options.Subset);
        var onTokens = OnEveryToken(classifier);
        bool independentChoices = ScoresEachChoiceAlone(classifier);
        var adapters = named.Select(a => a.Adapter).ToList();
        classifier.Module.eval();

        var inputSums = adapters.SelectMany(a => new[] { Square(a.lora_A.shape[1], a), Square(a.Rank, a) }).ToArray();
        var outputSums = adapters.SelectMany(a => new[] { Square(a.Rank, a), Square(a.lora_B.shape[0], a) }).ToArray();
        double logLikelihood = 0;
        int done = 0;
        using (var probe = new AdapterProbe(adapters))
            foreach (var indices in BatchOrder.ByLength(train, options.BatchSize))
            {
                cancel.ThrowIfCancellationRequested(); // the fit runs C backward passes per batch: long on a large split
                CollectionPoints.Reached();
                NativeAllocator.ReleaseFreePagesIfDue(); // else jemalloc without decay grows here without bound
                using var scope = NewDisposeScope();
                var batch = train.Make(indices, device);
                var logits = probe.Logits(onTokens, batch);
                logLikelihood -= nn.functional.cross_entropy(logits.detach().to(ScalarType.Float64), batch.Labels,
                    reduction: nn.Reduction.Sum).item<double>();

                var inputs = probe.MatrixInputs(batch.Size);
                for (int m = 0; m < inputs.Length; m++)
                    inputSums[m].add_(TokenOuterProducts(WithoutPadding(inputs[m], batch.AttentionMask)));

                var p = logits.detach().softmax(-1);
                foreach (var direction in passPerClass ? HessianColumns(p) : HessianRoots(p, independentChoices))
                {
                    var grads = probe.OutputGradients(logits, direction);
                    for (int m = 0; m < grads.Length; m++) outputSums[m].add_(TokenOuterProducts(grads[m]));
                }
                progress?.Invoke(done += indices.Length, train.Count);
            }

        var blocks = new List<KroneckerBlock>();
        for (int i = 0; i < adapters.Count; i++)
        {
            blocks.Add(NewBlock(named[i].Name + ".lora_A", inputSums[2 * i], outputSums[2 * i], train.Count, adapters[i].lora_A));
            blocks.Add(NewBlock(named[i].Name + ".lora_B", inputSums[2 * i + 1], outputSums[2 * i + 1], train.Count, adapters[i].lora_B));
        }
        var laplace = new LaplaceLora(classifier, adapters, options, blocks, train.Count, logLikelihood);
        if (options.PriorPrecision is null) laplace.TunePriorPrecision();
        return laplace;
    }

    /// <summary>
    /// The Laplace approximation of the log marginal likelihood at prior precision δ:
    ///     log p(D | θ_MAP) − ½δ‖θ_MAP‖² + ½P·log δ − ½ log det(H + δI),
    /// with the log-determinant summed over the blocks' Kronecker eigenvalues.
    /// </summary>
    public double LogMarginalLikelihood(double priorPrecision)
    {
        double squaredNorm = Blocks.Sum(b => b.SquaredNorm);
        double logDet = Blocks.Sum(b => b.LogDetPrecision(DataCount, priorPrecision));
        return LogLikelihood - 0.5 * priorPrecision * squaredNorm + 0.5 * ParameterCount * Math.Log(priorPrecision) - 0.5 * logDet;
    }

    /// <summary>Sets the prior precision to the maximiser of the log marginal likelihood over δ ∈ [1e-6, 1e6] and returns it.</summary>
    public double TunePriorPrecision() => PriorPrecision = PriorPrecisionSearch.Maximise(LogMarginalLikelihood);

    /// <summary>
    /// The linearised predictive over the class logits of a batch: mean f_MAP(x) [b, C] and covariance J Σ Jᵀ [b, C, C]
    /// (float64). For each class c, the gradient of f_c wrt each LoRA matrix, M_c = Σ_t g_t,c a_tᵀ, is exact; Σ is
    /// block-diagonal over the LoRA matrices and applied through each block's eigenbasis. <paramref name="classifier"/>
    /// (default: the one fitted) chooses which logits: the posterior is over the weights, so a decoder fitted on one
    /// task's answer tokens can predict over another's (OBQA's A–D, then ARC's A–E). A classifier that scores each
    /// choice alone (<see cref="MultipleChoiceClassifier"/>) needs one backward pass, not one per class: each token
    /// belongs to one choice c, so the gradient of Σ_c f_c at its tokens is f_c's alone (<see cref="ChoiceJacobians"/>);
    /// <paramref name="passPerClass"/> takes the C passes anyway, to check the one against.
    /// </summary>
    public (Tensor Mean, Tensor Covariance) LogitDistribution(Batch batch, IClassifier? classifier = null, bool passPerClass = false)
    {
        using var scope = NewDisposeScope();
        using var probe = new AdapterProbe(_adapters);
        classifier ??= _classifier;
        var logits = probe.Logits(classifier, batch);
        var inputs = probe.MatrixInputs(batch.Size);
        long classes = logits.shape[1];

        var jacobians = new Tensor[Blocks.Count]; // per block: [b, C, out, in]
        if (ScoresEachChoiceAlone(classifier) && !passPerClass)
        {
            var grads = probe.OutputGradients(logits, logits.isfinite().to(logits.dtype)); // ∂(Σ_c f_c)/∂s
            for (int m = 0; m < Blocks.Count; m++) jacobians[m] = ChoiceJacobians(grads[m], inputs[m], batch.InputIds.shape[1], classes);
        }
        else
        {
            var perClass = Blocks.Select(_ => new List<Tensor>()).ToArray(); // per block, per class: [b, out, in]
            for (int c = 0; c < classes; c++)
            {
                var grads = probe.OutputGradients(logits, OneHot(logits, c));
                for (int m = 0; m < Blocks.Count; m++) perClass[m].Add(einsum("bto,bti->boi", grads[m], inputs[m]));
                foreach (var g in grads) g.Dispose(); // token-level gradients are large; keep only the per-example sums
            }
            for (int m = 0; m < Blocks.Count; m++) jacobians[m] = stack(perClass[m], 1);
        }
        var covariance = zeros([batch.Size, classes, classes], ScalarType.Float64, logits.device);
        for (int m = 0; m < Blocks.Count; m++)
            covariance.add_(Blocks[m].CovarianceForm(jacobians[m], DataCount, PriorPrecision));
        return (logits.detach().MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// M_c = Σ_{t in choice c} g_t a_tᵀ [b, C, out, in] from one pass's gradients g [b, T, out] and inputs a [b, T, in],
    /// whose tokens are choice-major (T = choices × tokens per choice: a sequence's tokens, or one pooled vector); the
    /// classes past the batch's <paramref name="choices"/> (an OBQA question among ARC's five options) get zeros.
    /// </summary>
    static Tensor ChoiceJacobians(Tensor grads, Tensor inputs, long choices, long classes)
    {
        long b = grads.shape[0], t = grads.shape[1];
        if (t % choices != 0) throw new InvalidOperationException($"{t} tokens are not {choices} choices' sequences");
        var perChoice = einsum("bkto,bkti->bkoi", grads.reshape(b, choices, t / choices, -1), inputs.reshape(b, choices, t / choices, -1));
        return choices == classes ? perChoice : nn.functional.pad(perChoice, [0, 0, 0, 0, 0, classes - choices]);
    }

    /// <summary>
    /// Predictive class probabilities of every example of the data, [example][class] in the data's order, from the
    /// logits of <paramref name="classifier"/> (default: the one fitted), batched by length (<see cref="BatchOrder"/>).
    /// <paramref name="progress"/> hears of every batch (and once before the first); <paramref name="cancel"/> is
    /// checked between batches.
    /// </summary>
    public double[][] PredictProbabilities(IBatchSource data, int batchSize, Device device, IClassifier? classifier = null,
        Action<PredictionProgress>? progress = null, CancellationToken cancel = default) =>
        Predict(data, batchSize, device, classifier, progress, cancel, null);

    /// <summary>
    /// <see cref="PredictProbabilities"/> (the same numbers), with each example's mutual information over the Monte
    /// Carlo samples of its logits; refused with the probit approximation, which draws none.
    /// </summary>
    public SampledPrediction PredictSampled(IBatchSource data, int batchSize, Device device, IClassifier? classifier = null,
        Action<PredictionProgress>? progress = null, CancellationToken cancel = default)
    {
        if (_options.Probit) throw new InvalidOperationException("the probit approximation draws no samples");
        var mutualInformation = new double[data.Count];
        var probabilities = Predict(data, batchSize, device, classifier, progress, cancel, mutualInformation);
        return new SampledPrediction(probabilities, mutualInformation, null);
    }

    /// <summary>The prediction; where <paramref name="mutualInformation"/> is given, each example's is written into it.</summary>
    double[][] Predict(IBatchSource data, int batchSize, Device device, IClassifier? classifier,
        Action<PredictionProgress>? progress, CancellationToken cancel, double[]? mutualInformation)
    {
        _classifier.Module.eval();
        var result = new double[data.Count][];
        var recorder = mutualInformation is null ? null : new MutualInformationRecorder();
        int done = 0;
        progress?.Invoke(new PredictionProgress(0, data.Count, 0, 1));
        foreach (var indices in BatchOrder.ByLength(data, batchSize))
        {
            BayesianPrediction.Stop(cancel, done, data.Count);
            CollectionPoints.Reached();
            NativeAllocator.ReleaseFreePagesIfDue();
            using var scope = NewDisposeScope();
            var (mean, covariance) = LogitDistribution(data.Make(indices, device), classifier);
            Tensor probabilities;
            if (_options.Probit) probabilities = GlmPredictive.Probit(mean, covariance);
            else
            {
                var perSample = GlmPredictive.MonteCarloSamples(mean.cpu(), covariance.cpu(), _options.Samples, _generator); // [b, S, C]
                probabilities = perSample.mean([1]);
                if (recorder is not null)
                {
                    recorder.Add(perSample.transpose(0, 1));
                    var mi = recorder.Take();
                    for (int i = 0; i < indices.Length; i++) mutualInformation![indices[i]] = mi[i];
                }
            }
            var flat = probabilities.cpu().data<double>().ToArray();
            long classes = mean.shape[1];
            for (int i = 0; i < indices.Length; i++) result[indices[i]] = flat.AsSpan(i * (int)classes, (int)classes).ToArray();
            progress?.Invoke(new PredictionProgress(done += indices.Length, data.Count, 1, 1));
        }
        return result;
    }

    /// <summary>The LoRA adapters of the model (in module order), or only the last one.</summary>
    static IReadOnlyList<(string Name, LoraAdapter Adapter)> ChooseAdapters(nn.Module model, LaplaceSubset subset)
    {
        var all = AdapterInjection.Adapters(model).Where(a => a.Adapter is LoraAdapter)
            .Select(a => (a.Name, (LoraAdapter)a.Adapter)).ToList();
        if (all.Count == 0)
            throw new BlobException("the Laplace approximation (LAP) needs a model with LoRA adapters (a MAP or MLE checkpoint)");
        if (all.Any(a => a.Item2.Dropout > 0 && a.Item2.DropoutAtInference))
            throw new BlobException("the Laplace approximation needs deterministic adapters; switch MC dropout off");
        return subset == LaplaceSubset.LastLayer ? [all[^1]] : all;
    }

    /// <summary>
    /// The classifier the curvature is summed with: a decoder's LM head on every token, not only on the last one that
    /// the class logits read, so that the head's adapter adds every token to its input factor as in Laplace-LoRA's code
    /// (whose model computes the logits of all positions). The class logits are the same.
    /// </summary>
    static IClassifier OnEveryToken(IClassifier classifier) =>
        classifier is ChoiceClassifier choice ? choice.WithHeadOnEveryPosition() : classifier;

    /// <summary>
    /// Whether every token, and every pooled vector, of a batch belongs to one (question, choice) pair whose logit is
    /// computed from it alone (<see cref="MultipleChoiceClassifier"/>): a token's Jacobian then has one non-zero column.
    /// </summary>
    static bool ScoresEachChoiceAlone(IClassifier classifier) => classifier is MultipleChoiceClassifier;

    /// <summary>
    /// Directions d [b, C] on the logits, each one backward pass, whose outer products give every token its exact GGN
    /// term J_t H J_tᵀ with H = diag(p) − ppᵀ (per example):
    /// - in general the C columns of a square root of H, d_k = √p_k (e_k − p), so Σ_k d_k d_kᵀ = H;
    /// - with two classes H = p₀p₁ (1, −1)(1, −1)ᵀ has rank one: the single direction √(p₀p₁) (1, −1);
    /// - when each choice is scored alone (<see cref="MultipleChoiceClassifier"/>: every token and pooled vector belongs
    ///   to one (question, choice) pair c, so J_t has the one column j_t = ∂f_c/∂s_t), J_t H J_tᵀ = H_cc j_t j_tᵀ: the
    ///   single direction √(p ⊙ (1 − p)) = √diag(H) gives it, a C-fold saving over the columns.
    /// </summary>
    internal static Tensor[] HessianRoots(Tensor p, bool independentChoices)
    {
        if (independentChoices) return [p.mul(1 - p).sqrt()];
        if (p.shape[1] == 2)
        {
            var sign = tensor(new[] { 1.0, -1.0 }, p.dtype, p.device);
            return [p[.., 0..1].mul(p[.., 1..2]).sqrt().mul(sign)];
        }
        return HessianColumns(p);
    }

    /// <summary>The C columns √p_k (e_k − p) of a square root of diag(p) − ppᵀ, [b, C] each.</summary>
    internal static Tensor[] HessianColumns(Tensor p) =>
        Enumerable.Range(0, (int)p.shape[1]).Select(k => (OneHot(p, k) - p).mul(p[.., k..(k + 1)].sqrt())).ToArray();

    static Tensor OneHot(Tensor like, int k) =>
        nn.functional.one_hot(full([like.shape[0]], k, ScalarType.Int64, like.device), like.shape[1]).to(like.dtype);

    /// <summary>Σ_n Σ_t v_nt v_ntᵀ for v [b, T, d].</summary>
    static Tensor TokenOuterProducts(Tensor v) => einsum("bti,btj->ij", v, v);

    /// <summary>
    /// Zeroes the padding tokens of a [b, T, d] tensor when its tokens are the batch's (T equals the mask's length).
    /// A multiple-choice batch's mask is [b, choices, seq]: an example's tokens are then those of all its choices
    /// (T = choices × seq, each a sequence through the same weights), or, for a layer after pooling (the head), one
    /// per choice (T = choices), where a padding choice, all of whose tokens are padding, is zeroed.
    /// </summary>
    static Tensor WithoutPadding(Tensor tokens, Tensor attentionMask)
    {
        if (tokens.shape[1] <= 1) return tokens;
        Tensor? keep = attentionMask.dim() == 2 && tokens.shape[1] == attentionMask.shape[1] ? attentionMask
            : attentionMask.dim() == 3 && tokens.shape[1] == attentionMask.shape[1] * attentionMask.shape[2]
                ? attentionMask.reshape(attentionMask.shape[0], -1)
            : attentionMask.dim() == 3 && tokens.shape[1] == attentionMask.shape[1] ? attentionMask.amax(new long[] { 2 })
            : null;
        return keep is null ? tokens : tokens.mul(keep.to(tokens.dtype).unsqueeze(-1));
    }

    static Tensor Square(long size, LoraAdapter like) => zeros([size, size], like.lora_A.dtype, like.lora_A.device);

    static KroneckerBlock NewBlock(string name, Tensor inputSum, Tensor outputSum, long n, Tensor weight)
    {
        using var _ = no_grad();
        double squaredNorm = weight.to(ScalarType.Float64).square().sum().item<double>();
        return new KroneckerBlock(name, inputSum.div_(n), outputSum.div_(n), squaredNorm);
    }

    public void Dispose()
    {
        foreach (var block in Blocks) block.Dispose();
        _generator.Dispose();
    }
}
