package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.l2l.cli.CliTest.assertUsageError;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.dist.ClusterSpec;

/**
 * Bad cluster files and bad --task, --instances-per-step, --step-timeout, --meta-gradient-log:
 * one line naming the input and what is allowed, exit code 2, no stack trace, nothing written
 * and no server started (every check comes before).
 */
class ClusterInputTest {

  @TempDir Path tmp;

  private String[] train(String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--checkpoint-dir",
        tmp.resolve("ck").toString(), "--tensorboard-dir", tmp.resolve("tb").toString()));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  private Path file(String name, String content) throws IOException {
    return Files.writeString(tmp.resolve(name), content);
  }

  @Test
  void badClusterFilesAreOneLine() throws IOException {
    String expected = "; expected {\"workers\": [\"host0:2222\", \"host1:2222\"]}";
    Path missing = tmp.resolve("missing.json");
    assertUsageError("--cluster " + missing + ": no such file",
        train("--cluster", missing.toString(), "--task", "0"));
    Path notJson = file("a.json", "workers: [localhost:1]");
    assertUsageError("--cluster " + notJson + ": not JSON (at line 1 column 9); expected",
        train("--cluster",
        notJson.toString(), "--task", "0"));
    Path array = file("b.json", "[\"localhost:2222\"]");
    assertUsageError("--cluster " + array + ": not a JSON object" + expected,
        train("--cluster", array.toString(), "--task", "0"));
    Path empty = file("c.json", "{\"workers\": []}");
    assertUsageError("--cluster " + empty + ": \"workers\" is empty" + expected,
        train("--cluster", empty.toString(), "--task", "0"));
    Path noPort = file("d.json", "{\"workers\": [\"localhost:2222\", \"localhost\"]}");
    assertUsageError("--cluster " + noPort + ": worker 1 is \"localhost\", not \"host:port\""
        + expected, train("--cluster", noPort.toString(), "--task", "0"));
    Path bigPort = file("e.json", "{\"workers\": [\"localhost:70000\"]}");
    assertUsageError("--cluster " + bigPort + ": worker 0 (localhost:70000) has port 70000, "
        + "allowed 1-65535", train("--cluster", bigPort.toString(), "--task", "0"));
    Path twice = file("f.json", "{\"workers\": [\"h:1\", \"h:1\"]}");
    assertUsageError("--cluster " + twice + ": worker 1 (h:1) is listed twice",
        train("--cluster", twice.toString(), "--task", "0"));
    Path extra = file("g.json", "{\"workers\": [\"h:1\"], \"ps\": [\"h:2\"]}");
    assertUsageError("--cluster " + extra + ": unknown key \"ps\" (the only key is "
        + "\"workers\")", train("--cluster", extra.toString(), "--task", "0"));
    Path number = file("h.json", "{\"workers\": [2222]}");
    assertUsageError("worker 0 is 2222, not \"host:port\"", train("--cluster",
        number.toString(), "--task", "0"));
    assertFalse(Files.exists(tmp.resolve("ck")), "nothing written");
  }

  @Test
  void badTasksAreOneLine() throws IOException {
    List<Integer> ports = ClusterSpec.freePorts(2);
    Path two = file("two.json", ClusterSpec.json(List.of("localhost:" + ports.get(0),
        "localhost:" + ports.get(1))));
    assertUsageError("--task 2: not a worker of " + two + " (it lists 2 workers: allowed 0 to "
        + "1)", train("--cluster", two.toString(), "--task", "2"));
    assertUsageError("--task -1: not a worker of", train("--cluster", two.toString(), "--task",
        "-1"));
    assertUsageError("--cluster " + two + ": needs --task I, this worker's index in the file "
        + "(0 to 1; 0 is the chief)", train("--cluster", two.toString()));
    assertUsageError("--task 1: needs --cluster FILE", train("--task", "1"));
    assertUsageError("--task", train("--cluster", two.toString(), "--task", "one"));
    assertUsageError("--step-timeout 5.0: needs --cluster FILE", train("--step-timeout", "5"));
    assertUsageError("--step-timeout 0.0: must be a positive number", train("--cluster",
        two.toString(), "--task", "1", "--step-timeout", "0"));
    // A worker other than the chief takes its settings from the chief.
    assertUsageError("--epochs 5: not for worker 1: the workers other than the chief "
        + "(--task 0) take every setting from it; give them only --cluster, --task, "
        + "--step-timeout, --log-every, --meta-gradient-log", "train", "--cluster",
        two.toString(), "--task", "1", "--epochs", "5");
    assertFalse(Files.exists(tmp.resolve("ck")), "nothing written");
  }

  @Test
  void aBusyPortIsOneLineBeforeAnythingIsWritten() throws IOException {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(0));
      String worker = "localhost:" + busy.getLocalPort();
      Path f = file("busy.json", ClusterSpec.json(List.of(worker)));
      assertUsageError("--task 0: port " + busy.getLocalPort() + " of " + worker + " (" + f
          + ") cannot be opened on this machine (", train("--cluster", f.toString(), "--task",
          "0"));
    }
    assertFalse(Files.exists(tmp.resolve("ck")), "nothing written");
  }

  @Test
  void badParallelFlagsAreOneLine() {
    assertUsageError("--instances-per-step 0: must be a positive integer",
        train("--instances-per-step", "0"));
    assertUsageError("--meta-gradient-log " + tmp.resolve("g.log") + ": needs --cluster or "
        + "--instances-per-step above 1", train("--meta-gradient-log",
        tmp.resolve("g.log").toString()));
    assertFalse(Files.exists(tmp.resolve("ck")), "nothing written");
    assertFalse(Files.exists(tmp.resolve("g.log")), "nothing written");
  }

  @Test
  void aGoodFileIsReadInTaskOrder() throws IOException {
    Path f = file("ok.json", "{\"workers\": [\"10.0.0.1:2222\", \"node-b.example:2300\"]}");
    ClusterSpec spec = ClusterSpec.read(f);
    assertEquals(2, spec.size());
    assertEquals("node-b.example", spec.host(1));
    assertEquals(2300, spec.port(1));
    assertEquals("/job:worker/replica:0/task:1/device:CPU:0", ClusterSpec.device(1));
    assertEquals(List.of("10.0.0.1:2222", "node-b.example:2300"),
        spec.serverDef(1).getCluster().getJob(0).getTasksMap().values().stream().toList());
    assertEquals(1, spec.serverDef(1).getTaskIndex());
    assertEquals(2300, spec.serverDef(1).getPort());
    assertEquals("/job:worker/replica:0/task:0",
        spec.sessionConfig(1).getExperimental().getCollectiveGroupLeader());
    assertEquals(spec.workers(), ClusterSpec.read(file("back.json",
        ClusterSpec.json(spec.workers()))).workers());
  }
}
