package org.l2l.dist;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.l2l.UserError;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

/**
 * A cluster file ({@code --cluster}): the workers of a distributed run, one {@code host:port}
 * each, in task order; task 0 is the chief.
 *
 * <pre>
 * {"workers": ["10.0.0.1:2222", "10.0.0.2:2222", "10.0.0.3:2222"]}
 * </pre>
 *
 * Every worker is given the same file. Each task's TensorFlow gRPC server listens on its port (on
 * every interface of its machine); the others reach it at that host and port.
 *
 * @param workers host:port of every worker, task order
 * @param source the file, for messages
 */
public record ClusterSpec(List<String> workers, Path source) {

  /** The job name of every worker in TensorFlow's cluster definition. */
  public static final String JOB = "worker";

  /** Reads and checks a cluster file; every problem is one {@link UserError} naming the file. */
  public static ClusterSpec read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw UserError.flag("--cluster", file, e instanceof java.nio.file.NoSuchFileException
          ? "no such file" : "cannot be read (" + e.getMessage() + ")");
    }
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (RuntimeException e) {
      java.util.regex.Matcher at = java.util.regex.Pattern.compile("line \\d+ column \\d+")
          .matcher(String.valueOf(e.getMessage()));
      throw UserError.flag("--cluster", file, "not JSON" + (at.find() ? " (at " + at.group()
          + ")" : "") + "; expected " + EXAMPLE);
    }
    if (!root.isJsonObject()) {
      throw bad(file, "not a JSON object");
    }
    JsonObject o = root.getAsJsonObject();
    for (String key : o.keySet()) {
      if (!key.equals("workers")) {
        throw bad(file, "unknown key \"" + key + "\" (the only key is \"workers\")");
      }
    }
    if (!o.has("workers") || !o.get("workers").isJsonArray()) {
      throw bad(file, "no \"workers\" list");
    }
    JsonArray list = o.getAsJsonArray("workers");
    if (list.isEmpty()) {
      throw bad(file, "\"workers\" is empty");
    }
    List<String> workers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonElement e = list.get(i);
      String w = e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
      if (w == null || !w.matches("[A-Za-z0-9._-]+:[0-9]{1,5}")) {
        throw bad(file, "worker " + i + " is " + e + ", not \"host:port\"");
      }
      int port = Integer.parseInt(w.substring(w.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) {
        throw bad(file, "worker " + i + " (" + w + ") has port " + port
            + ", allowed 1-65535");
      }
      if (!seen.add(w)) {
        throw bad(file, "worker " + i + " (" + w + ") is listed twice");
      }
      workers.add(w);
    }
    return new ClusterSpec(List.copyOf(workers), file);
  }

  private static final String EXAMPLE = "{\"workers\": [\"host0:2222\", \"host1:2222\"]}";

  private static UserError bad(Path file, String what) {
    return UserError.flag("--cluster", file, what + "; expected " + EXAMPLE);
  }

  /** The JSON text of a cluster file listing {@code workers}. */
  public static String json(List<String> workers) {
    JsonObject o = new JsonObject();
    JsonArray a = new JsonArray();
    workers.forEach(a::add);
    o.add("workers", a);
    return o + "\n";
  }

  /** Number of workers. */
  public int size() {
    return workers.size();
  }

  /** Checks {@code --task}: an index into the workers. */
  public int checkTask(Integer task) {
    if (task == null) {
      throw UserError.flag("--cluster", source, "needs --task I, this worker's index in the "
          + "file (0 to " + (size() - 1) + "; 0 is the chief)");
    }
    if (task < 0 || task >= size()) {
      throw UserError.flag("--task", task, "not a worker of " + source + " (it lists " + size()
          + " worker" + (size() == 1 ? "" : "s") + ": allowed 0 to " + (size() - 1) + ")");
    }
    return task;
  }

  /**
   * Checks that worker {@code task}'s port can be opened on this machine (nothing else listens
   * there), so that a busy port is one line before anything is written.
   */
  public void checkPortFree(int task) {
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new java.net.InetSocketAddress(port(task)));
    } catch (IOException e) {
      throw UserError.flag("--task", task, "port " + port(task) + " of " + workers.get(task)
          + " (" + source + ") cannot be opened on this machine (" + e.getMessage()
          + "): is another worker using it?");
    }
  }

  /** The host of worker {@code task}. */
  public String host(int task) {
    String w = workers.get(task);
    return w.substring(0, w.lastIndexOf(':'));
  }

  /** The port of worker {@code task}. */
  public int port(int task) {
    String w = workers.get(task);
    return Integer.parseInt(w.substring(w.lastIndexOf(':') + 1));
  }

  /** TensorFlow's name of worker {@code task}'s CPU. */
  public static String device(int task) {
    return "/job:" + JOB + "/replica:0/task:" + task + "/device:CPU:0";
  }

  /** The session settings of every collective: task 0 leads the group. */
  public ConfigProto sessionConfig(int task) {
    return ConfigProto.newBuilder()
        .addDeviceFilters("/job:" + JOB + "/replica:0/task:" + task)
        .setExperimental(ConfigProto.Experimental.newBuilder()
            .setCollectiveGroupLeader("/job:" + JOB + "/replica:0/task:0"))
        .build();
  }

  /** The definition of worker {@code task}'s gRPC server. */
  public ServerDef serverDef(int task) {
    JobDef.Builder job = JobDef.newBuilder().setName(JOB);
    for (int i = 0; i < size(); i++) {
      job.putTasks(i, workers.get(i));
    }
    return ServerDef.newBuilder()
        .setCluster(ClusterDef.newBuilder().addJob(job))
        .setJobName(JOB).setTaskIndex(task).setProtocol("grpc").setPort(port(task))
        .setDefaultSessionConfig(sessionConfig(task))
        .build();
  }

  /**
   * {@code n} distinct loopback ports free on this machine now (bound and released), for workers
   * started here ({@code cluster --local}).
   */
  public static List<Integer> freePorts(int n) throws IOException {
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
