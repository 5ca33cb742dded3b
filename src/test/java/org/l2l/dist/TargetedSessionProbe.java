package org.l2l.dist;

import java.nio.file.Path;
import java.util.Locale;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TargetedSession;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.math.Add;
import org.tensorflow.types.TFloat32;

/**
 * Run in a child JVM by {@link TargetedSessionTest}: joins a one-worker cluster (its server),
 * runs a graph through a {@link TargetedSession} on it, then the collectives, and prints what it
 * got, one result per line.
 */
public final class TargetedSessionProbe {

  private TargetedSessionProbe() {}

  public static void main(String[] args) {
    ClusterSpec spec = ClusterSpec.read(Path.of(args[0]));
    Collectives c = Collectives.join(spec, 0, 30, System.out);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class);
      Add<TFloat32> y = tf.math.add(tf.math.mul(x, tf.constant(2f)), tf.constant(1f));
      try (Session s = TargetedSession.open(g, "grpc://localhost:" + spec.port(0),
              spec.sessionConfig(0));
          TFloat32 in = Tensors.floats(new float[] {1, 2, 3}, 3);
          Result out = s.runner().feed(x, in).fetch(y).run()) {
        float[] v = Tensors.toArray(out.get(0));
        System.out.printf(Locale.ROOT, "graph %s %s %s%n", v[0], v[1], v[2]);
      }
    }
    float[] v = {1.5f, -2f, 0.25f};
    float[] mean = c.mean(v);
    float[] sum = c.sum(v);
    float[] max = c.max(v);
    System.out.printf(Locale.ROOT, "mean %s %s %s%n", mean[0], mean[1], mean[2]);
    System.out.printf(Locale.ROOT, "sum %s %s %s%n", sum[0], sum[1], sum[2]);
    System.out.printf(Locale.ROOT, "max %s %s %s%n", max[0], max[1], max[2]);
    System.out.println("timed means " + c.meanMillis().length);
    System.out.flush();
    // The server cannot be stopped: the JVM ends it.
    System.exit(0);
  }
}
