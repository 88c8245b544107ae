// NAS-RL's rule for a layer that reads several inputs of different spatial sizes, shared by the
// built model (symbolic tensors, layers) and the supernet's forward pass (concrete tensors, ops),
// so that a child computes the same in both.

/** Rows added above and below, columns added left and right. */
export type SpatialPadding = [[number, number], [number, number]];

/** How one kind of NHWC tensor reports its size, is zero-padded in space and is concatenated on depth. */
export interface PadAndConcatOps<T> {
  spatialSize(tensor: T): readonly [height: number, width: number];
  zeroPad(tensor: T, padding: SpatialPadding): T;
  concatDepth(tensors: T[]): T;
}

/** Inputs of different sizes are zero-padded (centred) to the largest, then concatenated on depth; a single input is returned as it is. */
export function padAndConcat<T>(tensors: T[], ops: PadAndConcatOps<T>): T {
  if (tensors.length === 1) return tensors[0];
  const sizes = tensors.map((t) => ops.spatialSize(t));
  const height = Math.max(...sizes.map(([h]) => h));
  const width = Math.max(...sizes.map(([, w]) => w));
  const padded = tensors.map((t, i) => {
    const [h, w] = sizes[i];
    if (h === height && w === width) return t;
    const top = Math.floor((height - h) / 2);
    const left = Math.floor((width - w) / 2);
    return ops.zeroPad(t, [
      [top, height - h - top],
      [left, width - w - left],
    ]);
  });
  return ops.concatDepth(padded);
}
