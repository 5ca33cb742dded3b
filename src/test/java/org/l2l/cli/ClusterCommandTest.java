package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.l2l.cli.CliTest.assertUsageError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.dist.ClusterSpec;

/** {@code l2l cluster --local N}: worker processes on loopback, their logs, bad input. */
class ClusterCommandTest {

  @TempDir Path tmp;

  @Test
  void badInputIsOneLine() {
    assertUsageError("--local 0: must be a number of workers from 1 to 64", "cluster",
        "--local", "0", "--log-dir", tmp.resolve("logs").toString());
    assertUsageError("--task : cluster sets it for every worker; leave it out", "cluster",
        "--local", "2", "--log-dir", tmp.resolve("logs").toString(), "--task", "1");
    assertUsageError("--cluster : cluster sets it for every worker", "cluster", "--local", "2",
        "--log-dir", tmp.resolve("logs").toString(), "--cluster=c.json");
    assertUsageError("Missing required option: '--local=N'", "cluster");
    assertFalse(Files.exists(tmp.resolve("logs")), "nothing written");
  }

  @Test
  void onlyTheStepTimeoutAndLogEveryGoToTheOtherWorkers() {
    assertEquals(List.of("--step-timeout", "30", "--log-every=5"), ClusterCommand.workerArgs(
        List.of("--epochs", "3", "--step-timeout", "30", "--run", "x", "--log-every=5",
            "--seed", "2")));
  }

  @Test
  @Tag("child-jvm")
  @Tag("slow")
  void twoLocalWorkersTrainAndLeaveTheirLogs() throws Exception {
    Path logs = tmp.resolve("logs");
    CliTest.Printed p = CliTest.runPrinting("cluster", "--local", "2", "--log-dir",
        logs.toString(), "--problem", "quadratic", "--epochs", "2", "--num-steps", "40",
        "--unroll-length", "20", "--eval-every", "2", "--eval-instances", "2", "--hidden-size",
        "6", "--threads", "1", "--run", "c", "--checkpoint-dir", tmp.resolve("ck").toString(),
        "--tensorboard-dir", tmp.resolve("tb").toString());
    assertEquals(0, p.code(), p.err() + p.out());
    ClusterSpec spec = ClusterSpec.read(logs.resolve("cluster.json"));
    assertEquals(2, spec.size());
    assertTrue(p.out().contains("cluster: worker 1, pid "), p.out());
    assertTrue(p.out().contains("log " + logs.resolve("worker-1.log")), p.out());
    assertTrue(p.out().contains("cluster: all 2 workers have ended; logs in " + logs), p.out());
    for (int i = 0; i < 2; i++) {
      String log = Files.readString(logs.resolve("worker-" + i + ".log"));
      assertTrue(log.contains("worker " + i + ": weights identical on all 2 workers"), log);
    }
    // The chief's output is shown too, and it wrote the run.
    assertTrue(p.out().contains("worker 0 (chief) of 2: 2 instances per meta-step"), p.out());
    assertEquals(3, Files.readAllLines(tmp.resolve("ck/c/metrics.csv")).size());
  }
}
