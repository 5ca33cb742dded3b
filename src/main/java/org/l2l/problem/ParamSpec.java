package org.l2l.problem;

import java.util.Arrays;

/**
 * One parameter tensor of an optimizee: its name, shape and parameter group. The unroll keeps
 * the parameters of each update rule in one flat vector of coordinates, in the order of {@link
 * Problem#params()}; a run maps groups to rules ({@code --rules}), so that, say, convolution
 * kernels and the rest get separate learned optimizers.
 *
 * @param name a short name, unique within the problem (used in graph scopes and summaries)
 * @param shape the tensor's shape (an empty array for a scalar)
 * @param group the parameter group, a simple name; several parameters may share one
 */
public record ParamSpec(String name, long[] shape, String group) {

  /** A parameter that forms a group of its own, named as the parameter. */
  public ParamSpec(String name, long[] shape) {
    this(name, shape, name);
  }

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
    return o instanceof ParamSpec p && p.name.equals(name) && Arrays.equals(p.shape, shape)
        && p.group.equals(group);
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + group.hashCode();
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape) + (group.equals(name) ? "" : " in " + group);
  }
}
