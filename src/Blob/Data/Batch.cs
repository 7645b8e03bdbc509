using Blob.Runtime;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Data;

/// <summary>
/// A padded batch ready for the network, with the gold class of each example. ClassMask [batch, classes], when
/// present, marks the classes an example may take (an ARC question with 3 options among labels A–E). For an
/// encoder's multiple-choice head the ids, mask and token types are [questions, choices, seq] (one sentence pair per
/// choice) and ClassMask is always present; Size is the number of questions either way.
/// </summary>
public sealed record Batch(Tensor InputIds, Tensor AttentionMask, Tensor? TokenTypeIds, Tensor Labels, Tensor? ClassMask = null)
{
    public long Size => InputIds.shape[0];
}

/// <summary>Something that turns a list of example indices into a batch (tokenised and padded).</summary>
public interface IBatchSource
{
    /// <summary>How many examples the source holds.</summary>
    int Count { get; }
    /// <summary>How many classes its task has.</summary>
    int NumClasses { get; }
    /// <summary>Tokens of example <paramref name="index"/> before padding (used to group examples of similar length).</summary>
    int Length(int index);
    /// <summary>The examples <paramref name="indices"/> as one padded batch on <paramref name="device"/>.</summary>
    Batch Make(IReadOnlyList<int> indices, Device device);
}

/// <summary>A network seen as a classifier over a task's classes: class logits [batch, classes] for a batch.</summary>
public interface IClassifier
{
    /// <summary>The network (the module adapters are injected into and trained).</summary>
    nn.Module Module { get; }
    /// <summary>The class logits [batch, classes] of a batch (a softmax gives the class probabilities).</summary>
    Tensor ClassLogits(Batch batch);
}

/// <summary>An encoder with a classification head: its logits are the class logits.</summary>
public sealed class EncoderClassifier(ISequenceClassifier model) : IClassifier
{
    public nn.Module Module => model.Module;
    public Tensor ClassLogits(Batch batch) => model.Logits(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
}

/// <summary>
/// An encoder with a multiple-choice head (BertForMultipleChoice): one logit per (question, choice) pair, [questions,
/// choices], widened to the task's labels [questions, classes] (ClassMask's width) with −∞ for the choices a question
/// does not have, so that they get probability 0 — the convention of <see cref="ChoiceClassifier"/>, whose metrics,
/// predictions and OOD evaluation (an OBQA head answering ARC's five options) then apply unchanged.
/// </summary>
public sealed class MultipleChoiceClassifier(IMultipleChoiceModel model) : IClassifier
{
    public nn.Module Module => model.Module;

    public Tensor ClassLogits(Batch batch)
    {
        var classMask = batch.ClassMask
            ?? throw new ArgumentException("a multiple-choice batch carries its ClassMask", nameof(batch));
        var logits = model.Logits(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds); // [q, k]
        long missing = classMask.shape[1] - logits.shape[1];
        if (missing < 0) throw new ArgumentException($"{logits.shape[1]} choices but {classMask.shape[1]} classes", nameof(batch));
        var wide = missing == 0 ? logits : nn.functional.pad(logits, [0, missing], value: float.NegativeInfinity);
        return wide.masked_fill(classMask.logical_not(), float.NegativeInfinity);
    }
}

/// <summary>
/// A causal LM answering a multiple-choice prompt (the paper's setting): the next-token logits at the prompt's last
/// token, restricted to the answer tokens (one per class, e.g. "A", "B", "C", "D"). Works with left or right padding.
/// The LM head (and its adapter) runs on the last token only, unless <paramref name="headOnEveryPosition"/> asks for
/// the head on every position, as a model computing all logits and then reading the last does (see
/// <see cref="WithHeadOnEveryPosition"/>).
/// </summary>
public sealed class ChoiceClassifier(ICausalLanguageModel model, IReadOnlyList<int> choiceTokenIds, bool headOnEveryPosition = false) : IClassifier
{
    readonly long[] _choices = choiceTokenIds.Select(i => (long)i).ToArray();
    public nn.Module Module => model.Module;

    public Tensor ClassLogits(Batch batch)
    {
        var last = LastTokenIndex(batch.AttentionMask); // [b]
        var lastLogits = headOnEveryPosition            // [b, V]
            ? IDecoderModel.AtPositions(model.Logits(batch.InputIds, batch.AttentionMask), last)
            : model.LogitsAt(batch.InputIds, batch.AttentionMask, last);
        var classLogits = lastLogits.index_select(1, tensor(_choices, device: lastLogits.device));
        return batch.ClassMask is null ? classLogits : classLogits.masked_fill(batch.ClassMask.logical_not(), float.NegativeInfinity);
    }

    /// <summary>
    /// The same classifier with the LM head on every position: the same class logits, but an adapter on the head then
    /// sees every token, which is what Laplace-LoRA's K-FAC factors (summed over tokens) were defined on.
    /// </summary>
    public ChoiceClassifier WithHeadOnEveryPosition() => new(model, choiceTokenIds, headOnEveryPosition: true);

    /// <summary>Index of each row's last real token: T−1 with left padding, (number of tokens − 1) with right padding.</summary>
    public static Tensor LastTokenIndex(Tensor attentionMask)
    {
        long t = attentionMask.shape[1];
        var positions = arange(t, device: attentionMask.device).unsqueeze(0).expand_as(attentionMask);
        return positions.mul(attentionMask.to(ScalarType.Int64)).argmax(1);
    }
}
