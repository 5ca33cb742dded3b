package org.l2l.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Session-on-a-target workaround ({@link org.tensorflow.TargetedSession}) and the
 * collectives on a one-worker cluster, in a child JVM (a started TensorFlow server lives until
 * its JVM ends, so the test JVM starts none).
 */
class TargetedSessionTest {

  @TempDir Path tmp;

  @Test
  @Tag("child-jvm")
  void aSessionOnTheGrpcServerRunsGraphsAndCollectives() throws Exception {
    int port = ClusterSpec.freePorts(1).get(0);
    Path cluster = Files.writeString(tmp.resolve("cluster.json"),
        ClusterSpec.json(List.of("localhost:" + port)));
    Path log = tmp.resolve("probe.log");
    try (ChildJvm jvm = new ChildJvm()) {
      Process p = jvm.start(tmp, log, TargetedSessionProbe.class.getName(),
          List.of(cluster.toString()));
      int code = ChildJvm.exitCode(p, 3);
      List<String> lines = Files.readAllLines(log);
      assertEquals(0, code, String.join("\n", lines));
      assertTrue(lines.contains("worker 0 of 1: TensorFlow server on port " + port
          + "; waiting for the other workers"), String.join("\n", lines));
      // 2x + 1, computed by the server's worker through the master session.
      assertTrue(lines.contains("graph 3.0 5.0 7.0"), String.join("\n", lines));
      // One worker: the mean, sum and maximum over the workers are its own values.
      assertTrue(lines.contains("mean 1.5 -2.0 0.25"), String.join("\n", lines));
      assertTrue(lines.contains("sum 1.5 -2.0 0.25"), String.join("\n", lines));
      assertTrue(lines.contains("max 1.5 -2.0 0.25"), String.join("\n", lines));
      assertTrue(lines.contains("timed means 1"), String.join("\n", lines));
    }
  }
}
