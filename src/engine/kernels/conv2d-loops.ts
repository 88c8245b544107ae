import { add4, padInput, cropPadded, roundUpTo4, store4, widenColumns, type Geometry } from './conv-geometry.ts';

/*
 * The dense convolution's three passes. The stock kernels run at about 0.5 GFLOP/s forward and
 * their filter gradient is ~70x slower still. These run all passes at forward speed (several
 * GFLOP/s): on the zero-padded input the filter taps of one filter row (filterWidth * inChannels
 * values) are contiguous in memory, and each inner loop keeps a 2x4 block of sums in locals (two
 * output positions or taps by four channels), which measured fastest in V8 among the 1x4, 2x4,
 * 4x4, 2x8 and 4x2 blockings and im2col + matrix product.
 */

/** y[n,oh,ow,co] = sum over taps of xPadded * filter; two output positions by four output channels per block. */
export function conv2dForward(x: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
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
  const tapsPerFilterRow = filterWidth * inChannels;
  const blockedOut = roundUpTo4(outChannels);
  const weights = widenColumns(filter, filterHeight * tapsPerFilterRow, outChannels, blockedOut);
  const y = new Float32Array(batch * outHeight * outWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  const filterRowStep = tapsPerFilterRow * blockedOut;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = (n * paddedHeight + oh * strideHeight) * paddedRow;
      for (let ow = 0; ow < outWidth; ow += 2) {
        const first = rowStart + ow * positionStep;
        const hasSecond = ow + 1 < outWidth;
        const secondDelta = hasSecond ? positionStep : 0;
        const out = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let co = 0; co < outChannels; co += 4) {
          let a0 = 0,
            a1 = 0,
            a2 = 0,
            a3 = 0,
            b0 = 0,
            b1 = 0,
            b2 = 0,
            b3 = 0;
          for (let kh = 0; kh < filterHeight; kh++) {
            const tapStart = first + kh * paddedRow;
            const tapEnd = tapStart + tapsPerFilterRow;
            let w = kh * filterRowStep + co;
            for (let t = tapStart; t < tapEnd; t++) {
              const u = padded[t],
                v = padded[t + secondDelta];
              const w0 = weights[w],
                w1 = weights[w + 1],
                w2 = weights[w + 2],
                w3 = weights[w + 3];
              a0 += u * w0;
              a1 += u * w1;
              a2 += u * w2;
              a3 += u * w3;
              b0 += v * w0;
              b1 += v * w1;
              b2 += v * w2;
              b3 += v * w3;
              w += blockedOut;
            }
          }
          const count = outChannels - co;
          store4(y, out + co, count, a0, a1, a2, a3);
          if (hasSecond) store4(y, out + outChannels + co, count, b0, b1, b2, b3);
        }
      }
    }
  }
  return y;
}

/** dW[kh,kw,ci,co] = sum over batch and output positions of xPadded shifted by (kh,kw) times dy; two taps by four channels per block. */
export function conv2dFilterGradient(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
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
  const blockedOut = roundUpTo4(outChannels);
  const gradient = widenColumns(dy, batch * outHeight * outWidth, outChannels, blockedOut);
  const tapsPerFilterRow = filterWidth * inChannels;
  const dW = new Float32Array(filterHeight * tapsPerFilterRow * outChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let tap = 0; tap < tapsPerFilterRow; tap += 2) {
      const hasSecond = tap + 1 < tapsPerFilterRow;
      const secondDelta = hasSecond ? 1 : 0;
      const tapOffset = kh * paddedRow + tap;
      for (let co = 0; co < outChannels; co += 4) {
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0,
          b0 = 0,
          b1 = 0,
          b2 = 0,
          b3 = 0;
        let d = co;
        for (let n = 0; n < batch; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            let t = (n * paddedHeight + oh * strideHeight) * paddedRow + tapOffset;
            for (let ow = 0; ow < outWidth; ow++) {
              const u = padded[t],
                v = padded[t + secondDelta];
              const d0 = gradient[d],
                d1 = gradient[d + 1],
                d2 = gradient[d + 2],
                d3 = gradient[d + 3];
              a0 += u * d0;
              a1 += u * d1;
              a2 += u * d2;
              a3 += u * d3;
              b0 += v * d0;
              b1 += v * d1;
              b2 += v * d2;
              b3 += v * d3;
              t += positionStep;
              d += blockedOut;
            }
          }
        }
        const count = outChannels - co;
        const out = (kh * tapsPerFilterRow + tap) * outChannels + co;
        store4(dW, out, count, a0, a1, a2, a3);
        if (hasSecond) store4(dW, out + outChannels, count, b0, b1, b2, b3);
      }
    }
  }
  return dW;
}

/**
 * dx: each output position scatters dy . filter back onto the taps it read; two positions by four
 * taps per block. A scatter, unlike a convolution with the flipped filter, wastes no work on strides > 1.
 */
export function conv2dInputGradient(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
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
  const tapsPerFilterRow = filterWidth * inChannels;
  // Three zero rows past the end let the last 4-tap block read whole rows.
  const weights = new Float32Array((filterHeight * tapsPerFilterRow + 3) * outChannels);
  weights.set(filter);
  const padded = new Float32Array(batch * paddedHeight * paddedWidth * inChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = (n * paddedHeight + oh * strideHeight) * paddedRow;
      for (let ow = 0; ow < outWidth; ow += 2) {
        const first = rowStart + ow * positionStep;
        const hasSecond = ow + 1 < outWidth;
        const d0 = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        const d1 = hasSecond ? d0 + outChannels : d0;
        for (let kh = 0; kh < filterHeight; kh++) {
          const target = first + kh * paddedRow;
          for (let tap = 0; tap < tapsPerFilterRow; tap += 4) {
            const w0 = (kh * tapsPerFilterRow + tap) * outChannels;
            const w1 = w0 + outChannels,
              w2 = w1 + outChannels,
              w3 = w2 + outChannels;
            let a0 = 0,
              a1 = 0,
              a2 = 0,
              a3 = 0,
              b0 = 0,
              b1 = 0,
              b2 = 0,
              b3 = 0;
            for (let c = 0; c < outChannels; c++) {
              const u = dy[d0 + c],
                v = dy[d1 + c];
              const f0 = weights[w0 + c],
                f1 = weights[w1 + c],
                f2 = weights[w2 + c],
                f3 = weights[w3 + c];
              a0 += u * f0;
              a1 += u * f1;
              a2 += u * f2;
              a3 += u * f3;
              b0 += v * f0;
              b1 += v * f1;
              b2 += v * f2;
              b3 += v * f3;
            }
            const count = tapsPerFilterRow - tap;
            add4(padded, target + tap, count, a0, a1, a2, a3);
            if (hasSecond) add4(padded, target + positionStep + tap, count, b0, b1, b2, b3);
          }
        }
      }
    }
  }
  return cropPadded(padded, g);
}

/**
 * With stride 1 the input gradient is a forward convolution of dy with the filter flipped in space
 * and transposed in channels; its tap loop (filterWidth * outChannels long) runs 10-20% faster than
 * the scatter's outChannels-long one. Null where that does not apply: strides, padding wider than
 * the filter or an output taller than the padded input, and fewer than 4 input channels (the
 * forward pass's 4-channel blocks would be mostly empty).
 */
export function conv2dInputGradientByForward(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array | null {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, padTop, padLeft } = g;
  const applies =
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    inChannels >= 4 &&
    padTop < filterHeight &&
    padLeft < filterWidth &&
    outHeight <= inHeight + padTop &&
    outWidth <= inWidth + padLeft;
  if (!applies) return null;
  const flipped = new Float32Array(filter.length);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const from = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * inChannels * outChannels;
      const to = (kh * filterWidth + kw) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) flipped[to + co * inChannels + ci] = filter[from + ci * outChannels + co];
      }
    }
  }
  return conv2dForward(dy, flipped, {
    batch,
    inHeight: outHeight,
    inWidth: outWidth,
    inChannels: outChannels,
    outHeight: inHeight,
    outWidth: inWidth,
    outChannels: inChannels,
    filterHeight,
    filterWidth,
    strideHeight: 1,
    strideWidth: 1,
    padTop: filterHeight - 1 - padTop,
    padLeft: filterWidth - 1 - padLeft,
    paddedHeight: inHeight + filterHeight - 1,
    paddedWidth: inWidth + filterWidth - 1,
  });
}
