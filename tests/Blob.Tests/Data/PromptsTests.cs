using Blob.Data;

namespace Blob.Tests.Data;

public class PromptsTests
{
    [Fact]
    public void MultipleChoiceIsTable6()
    {
        Assert.Equal("Select one of the choices that answers the following question: What did Lily see in the park? " +
            "Choices: A. a big dog. B. a red ball. Answer:", Prompts.MultipleChoice("What did Lily see in the park?", ["a big dog", "a red ball"]));
        Assert.Equal("Select one of the choices that answers the following question: Q Choices: A. w. B. x. C. y. D. z. Answer:",
            Prompts.MultipleChoice("Q", ["w", "x", "y", "z"]));
    }

    [Fact]
    public void BoolQIsTable6() =>
        Assert.Equal("Answer the question with only True or False: Is the sun hot? Context: The sun was very hot that day.",
            Prompts.BoolQ("Is the sun hot?", "The sun was very hot that day"));
}
