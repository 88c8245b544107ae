// Counting a child's trainable parameters from shapes alone (no tfjs), as src/engine/model/build.ts
// builds it: a test checks the two agree.

/** A convolution's weights; with batch norm it has no bias, and the norm adds a scale, a shift and two running statistics per filter. */
export const convParameters = (kernelArea: number, inputs: number, filters: number, batchNorm = false) =>
  kernelArea * inputs * filters + (batchNorm ? 4 * filters : filters);
export const halved = (size: number, stride: number) => Math.ceil(size / stride);
