package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;

/** Helpers shared by the tests that check meta-gradients against finite differences. */
final class FiniteDifferences {

  private FiniteDifferences() {}

  /** Indices of the {@code count} components of {@code v} with the largest magnitude. */
  static int[] largest(float[] v, int count) {
    return java.util.stream.IntStream.range(0, v.length).boxed()
        .sorted((a, b) -> Float.compare(Math.abs(v[b]), Math.abs(v[a])))
        .limit(count).mapToInt(Integer::intValue).toArray();
  }

  /** A deep copy of a list of arrays, to perturb one component. */
  static List<float[]> copy(List<float[]> values) {
    List<float[]> out = new ArrayList<>();
    values.forEach(v -> out.add(v.clone()));
    return out;
  }
}
