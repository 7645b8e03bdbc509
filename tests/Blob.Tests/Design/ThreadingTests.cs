using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Dependencies;
using ArchUnitNET.Domain.Extensions;
using Blob.Runtime;

namespace Blob.Tests.Design;

/// <summary>Rule 5 of <see cref="TensorLifetimes"/>: no thread of ours allocates while another runs tensor code, so the
/// only threads the code starts are <see cref="HelperThreads"/>'.</summary>
public class ThreadingTests
{
    static readonly string[] Forbidden =
        ["System.Threading.Tasks.Parallel", "System.Threading.ThreadPool", "System.Threading.Timer", "System.Timers.Timer"];

    [Fact]
    public void NoCodeButTheHelpersStartsThreadsOrUsesThePoolOrTimers()
    {
        string helpers = typeof(HelperThreads).FullName!;
        var uses = LayeringTests.Code.Types
            .Where(t => !t.FullName.StartsWith(helpers, StringComparison.Ordinal)) // with its closures
            .SelectMany(t => t.Dependencies)
            .Where(d => Forbidden.Contains(d.Target.FullName)
                        || d is MethodCallDependency call && call.TargetMember is MethodMember { MethodForm: MethodForm.Constructor }
                                                          && d.Target.FullName == "System.Threading.Thread")
            .Select(d => $"{d.Origin.FullName} uses {d.Target.FullName}").Distinct().ToList();
        Assert.True(LayeringTests.Code.Types.Any(t => t.FullName == helpers), "the architecture holds no HelperThreads");
        Assert.True(uses.Count == 0, "a thread that allocates while tensors compute can free a Scalar libtorch is reading " +
                                     "(TensorLifetimes, rule 5): " + string.Join("; ", uses));
    }
}
