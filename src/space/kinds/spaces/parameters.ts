// Counting a child's trainable parameters from shapes alone (no tfjs), as src/engine/model/build.ts
// builds it: a test checks the two agree.

export const convParameters = (kernelArea: number, inputs: number, filters: number) => kernelArea * inputs * filters + filters;
export const halved = (size: number, stride: number) => Math.ceil(size / stride);
