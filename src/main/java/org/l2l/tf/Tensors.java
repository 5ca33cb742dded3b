package org.l2l.tf;

import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/** Conversions between Java float arrays and TensorFlow tensors. */
public final class Tensors {

  private Tensors() {}

  /** A new float tensor of the given shape holding a copy of {@code values}. */
  public static TFloat32 floats(float[] values, long... shape) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /** A scalar float tensor. */
  public static TFloat32 scalar(float value) {
    return TFloat32.scalarOf(value);
  }

  /** Copies all elements of a float tensor into a new array (row-major). */
  public static float[] toArray(Tensor tensor) {
    TFloat32 t = (TFloat32) tensor;
    float[] out = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  /** The single value of a scalar (or one-element) float tensor. */
  public static float toScalar(Tensor tensor) {
    return toArray(tensor)[0];
  }
}
