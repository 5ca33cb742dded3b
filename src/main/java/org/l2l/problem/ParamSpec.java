package org.l2l.problem;

import java.util.Arrays;

/**
 * One parameter tensor of an optimizee: its name and shape. The unroll keeps all parameters of a
 * problem in one flat vector of coordinates, in the order of {@link Problem#params()}.
 *
 * @param name a short name, unique within the problem (used in graph scopes and summaries)
 * @param shape the tensor's shape (an empty array for a scalar)
 */
public record ParamSpec(String name, long[] shape) {

  /** The number of coordinates (elements) of this parameter. */
  public long size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ParamSpec p && p.name.equals(name) && Arrays.equals(p.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
