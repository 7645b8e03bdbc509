using Spm = Microsoft.ML.Tokenizers.SentencePieceTokenizer;

namespace Blob.Tokenization;

/// <summary>
/// A SentencePiece <c>tokenizer.model</c> (Llama 2, Mistral, llama2.c): Microsoft.ML.Tokenizers does the pieces
/// (dummy "▁" prefix, whitespace escaping, byte fallback); this adds BOS/EOS, pairs and truncation the Llama way.
/// </summary>
public sealed class SentencePieceTokenizer : ITextTokenizer
{
    readonly Spm _spm;
    readonly EncodingTemplate _template;

    public int? BosId { get; }
    public int? EosId { get; }
    public int PadId { get; }
    public int VocabSize => _spm.Vocabulary.Count;

    SentencePieceTokenizer(Spm spm, SpecialTokenIds ids, bool addBos, bool addEos)
    {
        _spm = spm;
        BosId = ids.Bos;
        EosId = ids.Eos;
        PadId = ids.PadOrFallback;
        _template = EncodingTemplate.Llama(addBos ? BosId : null, addEos ? EosId : null);
    }

    /// <summary>
    /// Loads a tokenizer.model. Encode adds BOS (not EOS) unless tokenizer_config.json's add_bos_token /
    /// add_eos_token say otherwise; special ids come from the model unless the settings name others.
    /// </summary>
    public static SentencePieceTokenizer FromModelFile(string path, TokenizerSettings? settings = null)
    {
        settings ??= TokenizerSettings.Empty;
        Spm spm;
        using (var stream = File.OpenRead(path))
        {
            try { spm = Spm.Create(stream, false, false); } // BOS / EOS are added by the template
            catch (Exception e) // protobuf parse errors, models the library cannot run
            {
                throw new BlobException($"{path}: not a SentencePiece model this tokenizer can read ({e.Message})", e);
            }
        }

        int? IdOf(string token) => spm.Vocabulary.TryGetValue(token, out int id) ? id : null;
        var defaults = new SpecialTokenIds(spm.BeginningOfSentenceId, spm.EndOfSentenceId, null);
        var ids = settings.Resolve(IdOf, defaults);
        return new SentencePieceTokenizer(spm, ids, settings.AddBosToken ?? true, settings.AddEosToken ?? false);
    }

    public TokenizedText Encode(string text, string? pair = null, bool addSpecialTokens = true, int? maxLength = null) =>
        _template.Apply(Pieces(text), pair == null ? null : Pieces(pair), addSpecialTokens, maxLength);

    int[] Pieces(string text) =>
        [.. _spm.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)];

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) =>
        _spm.Decode(ids, considerSpecialTokens: !skipSpecialTokens);
}
