// Counting a child's trainable parameters from shapes alone (no tfjs), as src/engine/model/build.ts
// builds it: a test checks the two agree.

/** A convolution's weights; with batch norm it has no bias, and the norm adds a scale, a shift and two running statistics per filter. */
export const convParameters = (kernelArea: number, inputs: number, filters: number, batchNorm = false) =>
  kernelArea * inputs * filters + (batchNorm ? 4 * filters : filters);
export const halved = (size: number, stride: number) => Math.ceil(size / stride);

/** The classifier's input: global average pooling, or every feature flattened. */
export type ClassifierHead = 'gap' | 'flatten';

/**
 * `auto` pools from 16x16 images up (a flattened 32x32 feature map makes a huge dense layer) and
 * flattens below, where on 8x8 digits the position of a feature matters and children learn in fewer epochs.
 */
export function resolveHead(head: ClassifierHead | 'auto', image: readonly number[]): ClassifierHead {
  if (head !== 'auto') return head;
  return image[0] >= 16 && image[1] >= 16 ? 'gap' : 'flatten';
}

/** The dense classifier's weights and biases on features of `size` and `channels`. */
export function classifierParameters(head: ClassifierHead, size: readonly [number, number], channels: number, classes: number): number {
  const features = head === 'gap' ? channels : size[0] * size[1] * channels;
  return features * classes + classes;
}
