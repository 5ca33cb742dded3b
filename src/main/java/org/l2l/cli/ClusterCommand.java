package org.l2l.cli;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.l2l.UserError;
import org.l2l.dist.ClusterSpec;
import org.l2l.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code l2l cluster --local N TRAIN_FLAGS}: distributed meta-training on this machine, for trying
 * it: N worker processes on free loopback ports (a cluster file written into the log folder),
 * worker 0 (the chief) with the train flags given, the others with {@code --cluster} and
 * {@code --task} only. Each worker's output goes to its log file; the chief's is also shown here.
 * Ctrl-C (or SIGTERM) stops every worker by its process id: each gets SIGTERM, the workers agree
 * to stop after the epoch, the chief writes its checkpoint, then they exit.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run distributed meta-training (train --cluster) on this machine: N worker "
        + "processes on loopback, each with its log file; the flags not listed here are "
        + "train's, given to worker 0 (the chief).",
        "Example: ./l2l cluster --local 2 --problem quadratic --epochs 200 --threads 1 --run q2",
        "Exit code: the chief's if it failed, else the first failing worker's (4: a worker was "
            + "lost)."})
final class ClusterCommand implements Callable<Integer> {

  @Option(names = "--local", paramLabel = "N", required = true,
      description = "Number of worker processes to start on this machine.")
  int local;

  @Option(names = "--log-dir", paramLabel = "DIR",
      description = "Folder of the workers' logs (worker-I.log) and the cluster file "
          + "(default: logs/cluster-DATE-TIME).")
  Path logDir;

  @Unmatched List<String> trainArgs = new ArrayList<>();

  /** How long Ctrl-C waits for the workers to finish their epoch and checkpoint. */
  private static final long STOP_WAIT_SECONDS = 600;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (local < 1 || local > 64) {
      throw UserError.flag("--local", local, "must be a number of workers from 1 to 64");
    }
    for (String a : trainArgs) {
      String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      if (name.equals("--cluster") || name.equals("--task")) {
        throw UserError.flag(name, "", "cluster sets it for every worker; leave it out");
      }
    }
    Path dir = logDir != null ? logDir : Path.of("logs", "cluster-" + LocalDateTime.now()
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
    Folders.checkWritable(dir, "--log-dir");
    Folders.prepare(dir, "--log-dir");
    List<String> workers = new ArrayList<>();
    for (int port : freePorts(local)) {
      workers.add("localhost:" + port);
    }
    Path clusterFile = dir.resolve("cluster.json");
    AtomicFiles.writeString(clusterFile, ClusterSpec.json(workers));
    System.out.printf(Locale.ROOT, "cluster: %d worker%s on %s; cluster file %s%n", local,
        local == 1 ? "" : "s", String.join(", ", workers), clusterFile);

    List<Process> processes = new ArrayList<>();
    List<Thread> copiers = new ArrayList<>();
    Thread hook = new Thread(() -> stopAll(processes), "l2l-cluster-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (int i = 0; i < local; i++) {
        List<String> cmd = new ArrayList<>();
        cmd.add(BenchCommand.javaBinary());
        cmd.addAll(BenchCommand.jvmOptions());
        cmd.add("-Djava.awt.headless=true");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
            "train", "--cluster", clusterFile.toString(), "--task", Integer.toString(i)));
        cmd.addAll(i == 0 ? trainArgs : workerArgs(trainArgs));
        Path log = dir.resolve("worker-" + i + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
        if (i > 0) {
          pb.redirectOutput(log.toFile());
        }
        Process p;
        synchronized (processes) {
          p = pb.start();
          processes.add(p);
        }
        p.getOutputStream().close();
        System.out.printf(Locale.ROOT, "cluster: worker %d%s, pid %d, log %s%n", i,
            i == 0 ? " (the chief, shown here)" : "", p.pid(), log);
        if (i == 0) {
          Thread t = new Thread(() -> tee(p, log), "l2l-cluster-chief-log");
          t.setDaemon(true);
          t.start();
          copiers.add(t);
        }
      }
      int code = 0;
      for (int i = 0; i < processes.size(); i++) {
        int c = processes.get(i).waitFor();
        if (c != 0) {
          System.out.printf(Locale.ROOT, "cluster: worker %d exited with code %d (log %s)%n", i,
              c, dir.resolve("worker-" + i + ".log"));
          if (code == 0) {
            code = c;
          }
        }
      }
      for (Thread t : copiers) {
        t.join(5000);
      }
      System.out.printf(Locale.ROOT, "cluster: all %d workers have ended; logs in %s%n",
          local, dir);
      return code;
    } finally {
      stopAll(processes);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs
      }
    }
  }

  /** Flags the other workers take (train refuses the rest on them). */
  static List<String> workerArgs(List<String> trainArgs) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < trainArgs.size(); i++) {
      String a = trainArgs.get(i);
      String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      if (name.equals("--step-timeout") || name.equals("--log-every")) {
        out.add(a);
        if (!a.contains("=") && i + 1 < trainArgs.size()) {
          out.add(trainArgs.get(++i));
        }
      }
    }
    return out;
  }

  /** SIGTERM to every worker still running, by process id; SIGKILL after the wait. */
  private static void stopAll(List<Process> processes) {
    List<Process> running = new ArrayList<>();
    synchronized (processes) {
      for (Process p : processes) {
        if (p.isAlive()) {
          running.add(p);
        }
      }
    }
    if (running.isEmpty()) {
      return;
    }
    System.out.println("cluster: stopping workers (pids " + String.join(", ",
        running.stream().map(p -> Long.toString(p.pid())).toList()) + "): they finish the "
        + "epoch, the chief writes its checkpoint");
    running.forEach(Process::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
    for (Process p : running) {
      try {
        if (!p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          System.out.println("cluster: worker pid " + p.pid() + " did not stop; killing it");
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Copies the chief's output to its log file and to standard output. */
  private static void tee(Process p, Path log) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8));
        BufferedWriter out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        out.write(line);
        out.newLine();
        out.flush();
        System.out.println(line);
        System.out.flush();
      }
    } catch (IOException e) {
      // the chief is gone; its exit code tells
    }
  }

  /** {@code n} distinct ports free on this machine now (bound and released). */
  static List<Integer> freePorts(int n) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket();
        held.add(s);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ports.add(s.getLocalPort());
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }
}
