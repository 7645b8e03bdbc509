using Blob.Tokenization;

namespace Blob.Tests.Tokenization;

public class TruncationTests
{
    static int[] Range(int n) => [.. Enumerable.Range(0, n)];

    [Theory]
    [InlineData(5, 3, 6, 3, 3)]   // the longer one gives up tokens until both fit
    [InlineData(3, 5, 6, 3, 3)]
    [InlineData(10, 2, 6, 4, 2)]  // the short one is kept whole
    [InlineData(5, 5, 5, 2, 3)]   // equal: the first keeps budget / 2, the second the rest
    [InlineData(2, 2, 10, 2, 2)]  // fits already
    public void LongestFirstCutsTheLongerSequence(int n1, int n2, int budget, int want1, int want2)
    {
        var (a, b) = Truncation.LongestFirst(Range(n1), Range(n2), budget);
        Assert.Equal(Range(want1), a);
        Assert.Equal(Range(want2), b);
    }

    [Fact]
    public void ASingleTextKeepsItsStart()
    {
        var (a, b) = Truncation.LongestFirst(Range(10), null, 4);
        Assert.Equal(Range(4), a);
        Assert.Null(b);
    }
}
