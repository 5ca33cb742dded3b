package org.l2l.cli;

import java.io.IOException;
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
        + "train's, given to worker 0 (the chief); --step-timeout and --log-every go to every "
        + "worker.",
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

  /** Set when Ctrl-C or SIGTERM asked the workers to stop. */
  private volatile boolean stopping;

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
    for (int port : ClusterSpec.freePorts(local)) {
      workers.add("localhost:" + port);
    }
    Path clusterFile = dir.resolve("cluster.json");
    AtomicFiles.writeString(clusterFile, ClusterSpec.json(workers));
    System.out.printf(Locale.ROOT, "cluster: %d worker%s on %s; cluster file %s%n", local,
        local == 1 ? "" : "s", String.join(", ", workers), clusterFile);

    List<Process> processes = new ArrayList<>();
    List<Thread> copiers = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread hook = new Thread(() -> {
      stopping = true;
      stopAll(processes);
      joinAll(copiers);
    }, "l2l-cluster-stop");
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
        pb.redirectOutput(log.toFile());
        Process p;
        synchronized (processes) {
          p = pb.start();
          processes.add(p);
        }
        p.getOutputStream().close();
        System.out.printf(Locale.ROOT, "cluster: worker %d%s, pid %d, log %s%n", i,
            i == 0 ? " (the chief, shown here)" : "", p.pid(), log);
        if (i == 0) {
          Thread t = new Thread(() -> follow(p, log), "l2l-cluster-chief-log");
          t.setDaemon(true);
          t.start();
          copiers.add(t);
        }
      }
      int code = 0;
      for (int i = 0; i < processes.size(); i++) {
        int c = processes.get(i).waitFor();
        if (c != 0) {
          System.out.printf(Locale.ROOT, "cluster: worker %d %s with code %d (log %s)%n", i,
              stopping ? "stopped" : "exited", c, dir.resolve("worker-" + i + ".log"));
          if (code == 0) {
            code = c;
          }
        }
      }
      joinAll(copiers);
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

  /** Waits a little for the threads copying the chief's output, so its last lines are kept. */
  private static void joinAll(List<Thread> threads) {
    for (Thread t : threads) {
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
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

  /**
   * Shows the chief's log as it grows, until the chief has ended and the log is read to its end.
   * (The chief writes its log itself, so the file is whole whatever happens to this process.)
   */
  private static void follow(Process p, Path log) {
    try (java.io.InputStream in = Files.newInputStream(log)) {
      byte[] buffer = new byte[8192];
      while (true) {
        boolean ended = !p.isAlive();
        int n = in.read(buffer);
        if (n > 0) {
          System.out.write(buffer, 0, n);
          System.out.flush();
        } else if (ended) {
          return;
        } else {
          Thread.sleep(100);
        }
      }
    } catch (IOException e) {
      // the log cannot be read: the workers go on, their logs stay
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
