using System.Text.Json;

namespace Blob.Tests.Cli;

/// <summary>
/// `blob bench --json` on MiniLM and the built-in task's short batches (the fixtures' tiny BERT has no tokenizer): the report runs end to end (its children too) and its last line is one
/// JSON object with the performance figures. The values are not judged here: they are timings.
/// </summary>
public class BenchReportTests
{
    static readonly string[] Keys =
    [
        "bf16_speedup", "fp32_fraction_of_peak", "bf16_fraction_of_peak", "blob_lora_time_ratio", "blob_lora_memory_ratio",
        "prediction_n10_over_one_pass", "train_peak_rss_mib", "predict_peak_rss_mib", "fp32_peak_gflops", "bf16_peak_gflops", "step_gflop",
    ];

    [Fact]
    public void TheReportEndsWithOneJsonObjectOfItsFigures()
    {
        var r = BlobCli.RunChild(BlobCli.Debug, "bench", "--steps", "5", "--rounds", "2", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var last = r.Out.TrimEnd().Split('\n')[^1];
        using var json = JsonDocument.Parse(last);
        foreach (var key in Keys)
        {
            Assert.True(json.RootElement.TryGetProperty(key, out var value), $"no {key} in {last}");
            Assert.True(value.GetDouble() > 0 && double.IsFinite(value.GetDouble()), $"{key} = {value} in {last}");
        }
        Assert.Contains("matrix-product peak", r.Out);
        Assert.Contains("of the bf16 peak", r.Out);
        Assert.Contains("use --task rte", r.Out); // the built-in task's batches are shorter than the goals' 256 tokens
    }
}
