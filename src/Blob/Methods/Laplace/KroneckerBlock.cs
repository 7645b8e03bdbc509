using Blob.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// The K-FAC curvature of one LoRA matrix W [out, in], seen as the linear map s = W·a. Over N examples the GGN block of W
/// is approximated by N · Ḡ ⊗ Ā (row-major vec(W), so that vec(g·aᵀ) = g ⊗ a), with
///     Ā = mean over examples of Σ_t a_t a_tᵀ              (in × in, the input factor),
///     Ḡ = mean over examples of Σ_t Σ_k g_tk g_tkᵀ       (out × out, the output-gradient factor),
/// where g_tk = ∂(l_kᵀ f)/∂s_t for the columns l_k of a square root of the loss Hessian wrt the logits f.
/// Both factors are eigendecomposed once, Ā = Q_A Λ_A Q_Aᵀ and Ḡ = Q_G Λ_G Q_Gᵀ; then the posterior precision
/// N·Ḡ⊗Ā + δI has eigenvectors Q_G ⊗ Q_A and eigenvalues N·λ_G,i·λ_A,j + δ, which give its log-determinant and its
/// inverse exactly, without ever forming a matrix over all of W's entries.
/// </summary>
public sealed class KroneckerBlock : IDisposable
{
    /// <summary>The parameter's name, e.g. "model.layers.0.self_attn.q_proj.lora_A".</summary>
    public string Name { get; }
    /// <summary>Ā [in, in].</summary>
    public Tensor InputFactor { get; }
    /// <summary>Ḡ [out, out].</summary>
    public Tensor OutputFactor { get; }
    /// <summary>‖W_MAP‖², the prior's term of the marginal likelihood.</summary>
    public double SquaredNorm { get; }
    public long ParameterCount => InputFactor.shape[0] * OutputFactor.shape[0];

    // eigendecompositions in float64
    readonly Tensor _inputValues, _inputVectors, _outputValues, _outputVectors;

    public KroneckerBlock(string name, Tensor inputFactor, Tensor outputFactor, double squaredNorm)
    {
        Name = name;
        InputFactor = inputFactor;
        OutputFactor = outputFactor;
        SquaredNorm = squaredNorm;
        (_inputValues, _inputVectors) = SymmetricEigen(inputFactor);
        (_outputValues, _outputVectors) = SymmetricEigen(outputFactor);
    }

    /// <summary>Eigenvalues of the posterior precision N·Ḡ⊗Ā + δI, as a matrix [out, in] laid out like W.</summary>
    public Tensor PrecisionEigenvalues(long n, double priorPrecision) =>
        _outputValues.outer(_inputValues).mul(n).add(priorPrecision);

    /// <summary>log det(N·Ḡ⊗Ā + δI) = Σ_ij log(N·λ_G,i·λ_A,j + δ).</summary>
    public double LogDetPrecision(long n, double priorPrecision)
    {
        using var _ = NewDisposeScope();
        return PrecisionEigenvalues(n, priorPrecision).log().sum().item<double>();
    }

    /// <summary>
    /// vec(M_c)ᵀ Σ vec(M_c') for every pair of matrices shaped like W, with Σ = (N·Ḡ⊗Ā + δI)⁻¹:
    /// rotate into the eigenbasis, R_c = Q_Gᵀ M_c Q_A, then Σ_ij R_c,ij R_c',ij / (N·λ_G,i·λ_A,j + δ).
    /// jacobians [batch, C, out, in] → [batch, C, C] (float64).
    /// </summary>
    public Tensor CovarianceForm(Tensor jacobians, long n, double priorPrecision)
    {
        var rotated = _outputVectors.t().matmul(jacobians.to(ScalarType.Float64)).matmul(_inputVectors);
        var scaled = rotated / PrecisionEigenvalues(n, priorPrecision);
        return einsum("bcij,bdij->bcd", scaled, rotated);
    }

    /// <summary>Eigenvalues (clamped at 0: the factors are positive semi-definite) and eigenvectors, in float64.</summary>
    static (Tensor Values, Tensor Vectors) SymmetricEigen(Tensor factor)
    {
        using var scope = NewDisposeScope();
        var symmetric = factor.to(ScalarType.Float64);
        var (values, vectors) = linalg.eigh((symmetric + symmetric.t()) / 2);
        return (values.clamp_min(0).MoveToOuterDisposeScope(), vectors.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        InputFactor.Dispose();
        OutputFactor.Dispose();
        _inputValues.Dispose();
        _inputVectors.Dispose();
        _outputValues.Dispose();
        _outputVectors.Dispose();
    }
}
