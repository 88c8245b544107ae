import { padInput, cropPadded, type Geometry } from './conv-geometry.ts';

/** Depthwise: output channel c*multiplier+q reads input channel c only. Cheap next to dense convs, so plain loops. */
export function depthwiseForward(x: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const {
    batch,
    outHeight,
    outWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    paddedHeight,
    paddedWidth,
  } = g;
  const padded = padInput(x, g);
  const multiplier = outChannels / inChannels;
  const y = new Float32Array(batch * outHeight * outWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  let out = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let c = 0; c < inChannels; c++) {
          for (let q = 0; q < multiplier; q++) {
            let sum = 0;
            let w = c * multiplier + q;
            for (let kh = 0; kh < filterHeight; kh++) {
              let t = window + kh * paddedRow + c;
              for (let kw = 0; kw < filterWidth; kw++) {
                sum += padded[t] * filter[w];
                t += inChannels;
                w += outChannels;
              }
            }
            y[out++] = sum;
          }
        }
      }
    }
  }
  return y;
}

export function depthwiseFilterGradient(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const {
    batch,
    outHeight,
    outWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    paddedHeight,
    paddedWidth,
  } = g;
  const padded = padInput(x, g);
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  let d = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, d += outChannels) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          for (let kw = 0; kw < filterWidth; kw++) {
            const t = window + kh * paddedRow + kw * inChannels;
            const s = (kh * filterWidth + kw) * outChannels;
            for (let c = 0, o = 0; c < inChannels; c++) {
              const u = padded[t + c];
              for (let q = 0; q < multiplier; q++, o++) sums[s + o] += u * dy[d + o];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(sums);
}

export function depthwiseInputGradient(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const {
    batch,
    outHeight,
    outWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    paddedHeight,
    paddedWidth,
  } = g;
  const multiplier = outChannels / inChannels;
  const padded = new Float32Array(batch * paddedHeight * paddedWidth * inChannels);
  const paddedRow = paddedWidth * inChannels;
  let d = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, d += outChannels) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          for (let kw = 0; kw < filterWidth; kw++) {
            const t = window + kh * paddedRow + kw * inChannels;
            const w = (kh * filterWidth + kw) * outChannels;
            for (let c = 0, o = 0; c < inChannels; c++) {
              let sum = 0;
              for (let q = 0; q < multiplier; q++, o++) sum += dy[d + o] * filter[w + o];
              padded[t + c] += sum;
            }
          }
        }
      }
    }
  }
  return cropPadded(padded, g);
}
