// Gaussian-process regression with the kernel exp(-d(a, b) / (2 l²)) for a squared distance d, in
// plain TypeScript: a Cholesky factorisation on a hundred points takes well under a millisecond.

export interface KernelHyperparameters {
  /** l² in the units of the squared distance. */
  lengthscaleSquared: number;
  /** Observation noise as a fraction of the target variance. */
  noise: number;
}

// Lengthscale² as a multiple of the median squared distance between inputs (so the grid suits any
// distance), and noise as a fraction of the target variance.
const LENGTHSCALE_GRID = [0.25, 0.5, 1, 2, 4];
const NOISE_GRID = [1e-3, 1e-2, 1e-1];

/** A fitted posterior: predicts a mean and a variance at any point. */
export class GaussianProcess<T> {
  private constructor(
    private readonly inputs: readonly T[],
    private readonly squaredDistance: (a: T, b: T) => number,
    readonly hyperparameters: KernelHyperparameters,
    /** Lower-triangular Cholesky factor of K + noise·I, row-major n×n. */
    private readonly factor: Float64Array,
    /** (K + noise·I)⁻¹ (y - offset) / scale. */
    private readonly weights: Float64Array,
    private readonly offset: number,
    private readonly scale: number,
  ) {}

  /**
   * Fits the posterior to `targets` at `inputs`, with the given hyperparameters or, when none are
   * given, those of highest marginal likelihood on a small grid.
   */
  static fit<T>(
    inputs: readonly T[],
    targets: readonly number[],
    squaredDistance: (a: T, b: T) => number,
    hyperparameters?: KernelHyperparameters,
  ): GaussianProcess<T> {
    const n = inputs.length;
    const offset = targets.reduce((sum, t) => sum + t, 0) / n;
    const scale = Math.sqrt(targets.reduce((sum, t) => sum + (t - offset) ** 2, 0) / n) || 1;
    const y = Float64Array.from(targets, (t) => (t - offset) / scale);
    // Lower triangle only: that is all the factorisation reads.
    const distances = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) distances[i * n + j] = squaredDistance(inputs[i], inputs[j]);

    let best: { logLikelihood: number; hyperparameters: KernelHyperparameters; factor: Float64Array; weights: Float64Array } | undefined;
    for (const candidate of hyperparameters ? [hyperparameters] : hyperparameterGrid(distances, n)) {
      const matrix = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) matrix[i * n + j] = Math.exp(-distances[i * n + j] / (2 * candidate.lengthscaleSquared));
        matrix[i * n + i] = 1 + candidate.noise;
      }
      if (!choleskyInPlace(matrix, n)) continue;
      const weights = solveCholesky(matrix, n, y);
      // log p(y) up to a constant: -yᵀK⁻¹y/2 - log|K|/2, and log|K| = 2 Σ log Lᵢᵢ.
      let logLikelihood = 0;
      for (let i = 0; i < n; i++) logLikelihood -= 0.5 * y[i] * weights[i] + Math.log(matrix[i * n + i]);
      if (best === undefined || logLikelihood > best.logLikelihood)
        best = { logLikelihood, hyperparameters: candidate, factor: matrix, weights };
    }
    if (best === undefined) throw new Error('the Gaussian process could not factorise its kernel matrix');
    return new GaussianProcess(inputs, squaredDistance, best.hyperparameters, best.factor, best.weights, offset, scale);
  }

  predict(input: T): { mean: number; variance: number } {
    const n = this.inputs.length;
    const cross = new Float64Array(n);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      cross[i] = Math.exp(-this.squaredDistance(input, this.inputs[i]) / (2 * this.hyperparameters.lengthscaleSquared));
      mean += cross[i] * this.weights[i];
    }
    forwardSubstitute(this.factor, n, cross);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += cross[i] * cross[i];
    const variance = Math.max(1 - explained, 1e-12);
    return { mean: this.offset + this.scale * mean, variance: this.scale * this.scale * variance };
  }
}

function hyperparameterGrid(distances: Float64Array, n: number): KernelHyperparameters[] {
  const offDiagonal: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) offDiagonal.push(distances[i * n + j]);
  offDiagonal.sort((a, b) => a - b);
  const median = offDiagonal[offDiagonal.length >> 1] || 1;
  return LENGTHSCALE_GRID.flatMap((relative) => NOISE_GRID.map((noise) => ({ lengthscaleSquared: relative * median, noise })));
}

/** Replaces the lower triangle of a symmetric positive-definite matrix by its Cholesky factor; false if it is not positive definite. */
function choleskyInPlace(matrix: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = matrix[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= matrix[rowJ + k] * matrix[rowJ + k];
    if (!(diagonal > 0)) return false;
    const pivot = Math.sqrt(diagonal);
    matrix[rowJ + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let value = matrix[rowI + j];
      for (let k = 0; k < j; k++) value -= matrix[rowI + k] * matrix[rowJ + k];
      matrix[rowI + j] = value / pivot;
    }
  }
  return true;
}

/** Solves L x = b in place. */
function forwardSubstitute(factor: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let value = b[i];
    for (let k = 0; k < i; k++) value -= factor[i * n + k] * b[k];
    b[i] = value / factor[i * n + i];
  }
}

/** Solves (L Lᵀ) x = b. */
function solveCholesky(factor: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  forwardSubstitute(factor, n, x);
  for (let i = n - 1; i >= 0; i--) {
    let value = x[i];
    for (let k = i + 1; k < n; k++) value -= factor[k * n + i] * x[k];
    x[i] = value / factor[i * n + i];
  }
  return x;
}
