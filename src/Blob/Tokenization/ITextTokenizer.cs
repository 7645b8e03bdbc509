namespace Blob.Tokenization;

/// <summary>Token ids of one text (or sentence pair) and, for BERT-style pairs, the segment of each token.</summary>
public sealed record TokenizedText(int[] Ids, int[] TypeIds)
{
    public int Length => Ids.Length;
}

/// <summary>
/// What the rest of the library needs from a tokenizer (WordPiece, SentencePiece, byte-level BPE, tokenizer.json).
/// "Special tokens" means what the model family adds around a text: BOS for Llama, [CLS] … [SEP] for BERT,
/// &lt;s&gt; … &lt;/s&gt; for RoBERTa.
/// </summary>
public interface ITextTokenizer
{
    int? BosId { get; }
    int? EosId { get; }
    /// <summary>The id used for padding (pad token, else EOS, else 0).</summary>
    int PadId { get; }
    int VocabSize { get; }

    /// <summary>Tokenises a text or a sentence pair; with maxLength, truncates longest-first to fit (special tokens included).</summary>
    TokenizedText Encode(string text, string? pair = null, bool addSpecialTokens = true, int? maxLength = null);

    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}
