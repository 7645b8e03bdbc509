namespace Blob.Tokenization;

/// <summary>
/// Where a model family puts its special tokens around one text or a pair, and the segment (type id) of each part:
/// the Hugging Face "TemplateProcessing" idea. Llama: &lt;s&gt; $A; RoBERTa: &lt;s&gt; $A &lt;/s&gt;&lt;/s&gt; $B &lt;/s&gt;;
/// BERT: [CLS] $A [SEP] $B:1 [SEP]:1.
/// </summary>
public sealed class EncodingTemplate
{
    /// <summary>One part of a template: special token ids, or the text "A" / "B" (Ids empty).</summary>
    public sealed record Piece(string? Sequence, int[] Ids, int TypeId)
    {
        public static Piece Special(int id, int typeId = 0) => new(null, [id], typeId);
        public static Piece A(int typeId = 0) => new("A", [], typeId);
        public static Piece B(int typeId = 0) => new("B", [], typeId);
    }

    public IReadOnlyList<Piece> Single { get; }
    public IReadOnlyList<Piece> Pair { get; }

    public EncodingTemplate(IReadOnlyList<Piece> single, IReadOnlyList<Piece> pair)
    {
        Single = single;
        Pair = pair;
    }

    /// <summary>Adds nothing (GPT-2): $A, and $A $B for a pair.</summary>
    public static readonly EncodingTemplate None = new([Piece.A()], [Piece.A(), Piece.B()]);

    /// <summary>Llama / Mistral SentencePiece: [BOS] $A [EOS], and the same again for B; flags say which are added.</summary>
    public static EncodingTemplate Llama(int? bos, int? eos)
    {
        List<Piece> Around(Piece text) =>
            [.. bos is int b ? [Piece.Special(b)] : Array.Empty<Piece>(), text, .. eos is int e ? [Piece.Special(e)] : Array.Empty<Piece>()];
        return new(Around(Piece.A()), [.. Around(Piece.A()), .. Around(Piece.B())]);
    }

    /// <summary>RoBERTa: &lt;s&gt; $A &lt;/s&gt;, and &lt;s&gt; $A &lt;/s&gt;&lt;/s&gt; $B &lt;/s&gt;, all segment 0.</summary>
    public static EncodingTemplate Roberta(int cls, int sep) => new(
        [Piece.Special(cls), Piece.A(), Piece.Special(sep)],
        [Piece.Special(cls), Piece.A(), Piece.Special(sep), Piece.Special(sep), Piece.B(), Piece.Special(sep)]);

    /// <summary>BERT: [CLS] $A [SEP], and [CLS] $A [SEP] $B [SEP] with B and its [SEP] in segment 1.</summary>
    public static EncodingTemplate Bert(int cls, int sep) => new(
        [Piece.Special(cls), Piece.A(), Piece.Special(sep)],
        [Piece.Special(cls), Piece.A(), Piece.Special(sep), Piece.B(1), Piece.Special(sep, 1)]);

    /// <summary>
    /// Puts the template around <paramref name="a"/> (and <paramref name="b"/>); without special tokens only the texts
    /// remain. With <paramref name="maxLength"/>, the texts are truncated longest-first so the whole fits.
    /// </summary>
    public TokenizedText Apply(int[] a, int[]? b, bool addSpecialTokens, int? maxLength)
    {
        var pieces = (b == null ? Single : Pair).Where(p => addSpecialTokens || p.Sequence != null).ToList();
        if (maxLength is int max)
        {
            int specials = pieces.Sum(p => p.Ids.Length);
            if (max < specials)
                throw new BlobException($"max length {max} is shorter than the {specials} special tokens this tokenizer adds");
            (a, b) = Truncation.LongestFirst(a, b, max - specials);
        }

        var ids = new List<int>();
        var typeIds = new List<int>();
        foreach (var piece in pieces)
        {
            var part = piece.Sequence switch { "A" => a, "B" => b ?? [], _ => piece.Ids };
            ids.AddRange(part);
            typeIds.AddRange(Enumerable.Repeat(piece.TypeId, part.Length));
        }
        return new TokenizedText([.. ids], [.. typeIds]);
    }
}
