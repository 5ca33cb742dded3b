package org.l2l.dist;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.l2l.UserError;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.TargetedSession;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * This process's membership of a cluster of workers: its TensorFlow gRPC server and a session on
 * it running TensorFlow's own all-reduce ({@code CollectiveReduce}) over float vectors, one op per
 * purpose:
 *
 * <ul>
 *   <li>{@link #mean} (the meta-step's averaging; times out after {@code --step-timeout});
 *   <li>{@link #sum} (the chief's broadcasts: the others contribute zeros; and the end-of-epoch
 *       agreement), which waits up to ten times as long, for the chief's evaluation and start;
 *   <li>{@link #max} (checking that every worker holds the same weights).
 * </ul>
 *
 * Every worker must call the same operations in the same order with vectors of the same length.
 * A collective that fails or times out is a {@link LostWorker} naming the workers that no longer
 * answer. The gRPC server cannot be stopped (TensorFlow Java has no clean shutdown, and deleting
 * a running server aborts the process): it lives until the JVM exits.
 */
public final class Collectives {

  /** A worker stopped answering; the message is one line naming it. */
  public static final class LostWorker extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A lost worker, {@code message} one line naming it. */
    public LostWorker(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** How many times the step timeout the waits for the chief (start, evaluation) last. */
  public static final int LONG_WAIT_FACTOR = 10;

  private enum Kind {
    MEAN("Add", "Div", 1), SUM("Add", "Id", LONG_WAIT_FACTOR), MAX("Max", "Id", LONG_WAIT_FACTOR),
    HANDSHAKE("Add", "Id", LONG_WAIT_FACTOR);

    final String merge;
    final String fin;
    final int timeoutFactor;

    Kind(String merge, String fin, int timeoutFactor) {
      this.merge = merge;
      this.fin = fin;
      this.timeoutFactor = timeoutFactor;
    }
  }

  /** Servers started by this JVM: never closed, never collected. */
  private static final List<Server> SERVERS = new ArrayList<>();

  private final ClusterSpec spec;
  private final int task;
  private final double stepTimeout;
  private final Graph graph = new Graph();
  private final Session session;
  private final Map<Kind, Placeholder<TFloat32>> inputs = new EnumMap<>(Kind.class);
  private final Map<Kind, Output<?>> outputs = new EnumMap<>(Kind.class);
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "l2l-collective-watchdog");
        t.setDaemon(true);
        return t;
      });
  private final List<Double> meanMillis = new ArrayList<>();
  private volatile String context = "at the start";
  private volatile String onLost = "";
  /** Seconds between looks at the other workers' ports while a collective waits. */
  private static final int PROBE_SECONDS = 2;

  private Collectives(ClusterSpec spec, int task, double stepTimeout) {
    this.spec = spec;
    this.task = task;
    this.stepTimeout = stepTimeout;
    Ops tf = Ops.create(graph);
    for (Kind k : Kind.values()) {
      Placeholder<TFloat32> in = tf.withName("in_" + k.name().toLowerCase(Locale.ROOT))
          .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Output<?> out = graph.opBuilder("CollectiveReduce", k.name().toLowerCase(Locale.ROOT),
              tf.scope())
          .addInput(in.output())
          .setDevice(ClusterSpec.device(task))
          .setAttr("T", DataType.DT_FLOAT)
          .setAttr("group_size", spec.size())
          .setAttr("group_key", 1L)
          .setAttr("instance_key", (long) (k.ordinal() + 1))
          .setAttr("merge_op", k.merge)
          .setAttr("final_op", k.fin)
          .setAttr("subdiv_offsets", new long[] {0})
          .setAttr("timeout_seconds", (float) (stepTimeout * k.timeoutFactor))
          .build().output(0);
      inputs.put(k, in);
      outputs.put(k, out);
    }
    session = TargetedSession.open(graph, "grpc://localhost:" + spec.port(task),
        spec.sessionConfig(task));
  }

  /**
   * Starts this worker's gRPC server, waits until every other worker's port answers (up to ten
   * step timeouts) and returns the collectives. A port already in use, or a worker that does not
   * come up, is one line ({@link UserError} or {@link LostWorker}).
   */
  public static Collectives join(ClusterSpec spec, int task, double stepTimeout, PrintStream log) {
    int port = spec.port(task);
    spec.checkPortFree(task);
    Server server = new Server(spec.serverDef(task));
    server.start();
    synchronized (SERVERS) {
      SERVERS.add(server);
    }
    log.printf(Locale.ROOT, "worker %d of %d: TensorFlow server on port %d; waiting for the "
        + "other workers%n", task, spec.size(), port);
    long deadline = System.nanoTime() + (long) (stepTimeout * LONG_WAIT_FACTOR * 1e9);
    for (int i = 0; i < spec.size(); i++) {
      while (i != task && !reachable(spec, i, 1000)) {
        if (System.nanoTime() > deadline) {
          throw new LostWorker(String.format(Locale.ROOT, "worker %d (%s) did not come up within "
              + "%.0f s (ten times --step-timeout); start it with --cluster %s --task %d", i,
              spec.workers().get(i), stepTimeout * LONG_WAIT_FACTOR, spec.source(), i), null);
        }
        sleep(200);
      }
    }
    return new Collectives(spec, task, stepTimeout);
  }

  /** This worker's index; 0 is the chief. */
  public int task() {
    return task;
  }

  /** Number of workers. */
  public int size() {
    return spec.size();
  }

  /** The cluster. */
  public ClusterSpec spec() {
    return spec;
  }

  /**
   * Appended to the message when a lost worker ends the process from the watchdog (where the
   * caller cannot add to it): how to continue, say.
   */
  public void setOnLost(String text) {
    this.onLost = text;
  }

  /** What the run is doing, named in the message of a lost worker ("in epoch 3, meta-step 2"). */
  public void setContext(String context) {
    this.context = context;
  }

  /** The element-wise mean of every worker's {@code values}. */
  public float[] mean(float[] values) {
    long start = System.nanoTime();
    float[] out = run(Kind.MEAN, values);
    meanMillis.add((System.nanoTime() - start) / 1e6);
    return out;
  }

  /** The element-wise sum of every worker's {@code values} (waits up to ten step timeouts). */
  public float[] sum(float[] values) {
    return run(Kind.SUM, values);
  }

  /** The element-wise maximum of every worker's {@code values} (waits up to ten step timeouts). */
  public float[] max(float[] values) {
    return run(Kind.MAX, values);
  }

  /** As {@link #sum}, for the first exchange (own instance key: its length differs). */
  public float[] handshake(float[] values) {
    return run(Kind.HANDSHAKE, values);
  }

  /** Wall times of every {@link #mean} so far, in milliseconds. */
  public double[] meanMillis() {
    return meanMillis.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private float[] run(Kind kind, float[] values) {
    double timeout = stepTimeout * kind.timeoutFactor;
    // TensorFlow's own timeout should fire first; this is the backstop for a collective that
    // hangs where TensorFlow has none (an unanswered group resolution, say).
    ScheduledFuture<?> backstop = watchdog.schedule(() -> {
      System.err.println("l2l: " + lostMessage("no answer within " + (long) (timeout + 30)
          + " s", null) + onLost);
      System.err.flush();
      Runtime.getRuntime().halt(EXIT_LOST_WORKER);
    }, (long) ((timeout + 30) * 1000), TimeUnit.MILLISECONDS);
    // A worker whose process ended no longer accepts connections on its port: while a
    // collective waits, look every two seconds, and stop at once (after two looks in a row)
    // rather than wait for the timeout. TensorFlow's run cannot be cancelled from Java, so this
    // ends the process; every file of the run is written atomically, so nothing is half-written.
    int[] missed = new int[1];
    ScheduledFuture<?> prober = watchdog.scheduleWithFixedDelay(() -> {
      boolean gone = false;
      for (int i = 0; i < spec.size(); i++) {
        gone |= i != task && !reachable(spec, i, 1000);
      }
      missed[0] = gone ? missed[0] + 1 : 0;
      if (missed[0] >= 2) {
        System.err.println("l2l: " + lostMessage("no answer; the collective was still waiting",
            null) + onLost);
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_LOST_WORKER);
      }
    }, PROBE_SECONDS, PROBE_SECONDS, TimeUnit.SECONDS);
    try (TFloat32 in = Tensors.floats(values, values.length);
        Result out = session.runner().feed(inputs.get(kind), in).fetch(outputs.get(kind))
            .run()) {
      return Tensors.toArray(out.get(0));
    } catch (TensorFlowException e) {
      throw new LostWorker(lostMessage(firstLine(e), e), e);
    } finally {
      prober.cancel(false);
      backstop.cancel(false);
    }
  }

  /** Exit code of a run that stopped because a worker was lost. */
  public static final int EXIT_LOST_WORKER = 4;

  /** One line naming the workers that no longer answer, with TensorFlow's reason. */
  private String lostMessage(String reason, Throwable cause) {
    List<String> gone = new ArrayList<>();
    for (int i = 0; i < spec.size(); i++) {
      if (i != task && !reachable(spec, i, 2000)) {
        gone.add("worker " + i + " (" + spec.workers().get(i) + ")");
      }
    }
    String who = gone.isEmpty()
        ? "a worker did not answer in time (every port still accepts connections: one is hung, "
            + "or slower than --step-timeout " + fmt(stepTimeout) + " s allows)"
        : "lost " + String.join(", ", gone) + ": its port no longer accepts connections";
    return "worker " + task + ": " + who + ", " + context + " (TensorFlow: " + reason + ")";
  }

  private static boolean reachable(ClusterSpec spec, int i, int timeoutMillis) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(spec.host(i), spec.port(i)), timeoutMillis);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String fmt(double seconds) {
    return seconds == Math.rint(seconds) ? Long.toString((long) seconds) : Double.toString(seconds);
  }

  /** The informative line of TensorFlow's message (it starts with "From /job:...:"). */
  private static String firstLine(Exception e) {
    String m = "";
    for (String line : String.valueOf(e.getMessage()).split("\\R")) {
      String l = line.strip();
      if (!l.isEmpty() && !l.startsWith("From /job") && !l.startsWith("Additional GRPC")
          && !l.startsWith(":{")) {
        m = l;
        break;
      }
    }
    return m.length() > 200 ? m.substring(0, 200) + "..." : m;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the other workers", e);
    }
  }

  /** Median of {@code values} (NaN if empty). */
  public static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
