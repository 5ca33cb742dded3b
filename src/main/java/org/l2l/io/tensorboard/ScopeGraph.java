package org.l2l.io.tensorboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * The top-level structure of a TensorFlow graph: its nodes grouped into boxes by the first
 * component of their names, with the data and control flow between boxes, laid out in columns.
 *
 * <p>Thousands of ops are unreadable, but the name scopes a program chose ("optimizee",
 * "optimizer", "step_3") are exactly the structure a person wants to see.
 */
public final class ScopeGraph {

  /** The box collecting nodes without a scope when there are more than {@link #FEW} of them. */
  public static final String ROOT = "(root)";

  /** Up to this many unscoped nodes get a box each; numbered scopes collapse above it. */
  static final int FEW = 3;

  private static final Pattern NUMBERED = Pattern.compile("(.*?)(\\d+)");

  /**
   * A group of nodes.
   *
   * @param label text shown in the box, e.g. {@code "optimizer"} or {@code "step_0..step_19 (x20)"}
   * @param scope the scope name standing for the box (the first of a collapsed run), given to
   *     category functions
   * @param members the scopes merged into this box
   * @param nodeCount number of graph nodes inside
   * @param column layout column, 0 = leftmost; every forward edge goes to a later column
   * @param row position within the column, 0 = top
   */
  public record Box(
      String label, String scope, List<String> members, int nodeCount, int column, int row) {}

  /**
   * Flow between two boxes.
   *
   * @param from index of the source box in {@link #boxes()}
   * @param to index of the destination box
   * @param dataInputs number of data inputs of nodes in {@code to} fed by nodes in {@code from}
   * @param controlInputs number of control inputs likewise
   * @param backward whether this edge closes a cycle; it was ignored for the layout and points to
   *     an earlier column
   */
  public record Edge(int from, int to, int dataInputs, int controlInputs, boolean backward) {
    /** An edge made only of control dependencies, drawn dashed. */
    public boolean controlOnly() {
      return dataInputs == 0;
    }
  }

  private final List<Box> boxes;
  private final List<Edge> edges;
  private final int nodeCount;

  private ScopeGraph(List<Box> boxes, List<Edge> edges, int nodeCount) {
    this.boxes = boxes;
    this.edges = edges;
    this.nodeCount = nodeCount;
  }

  /** Boxes ordered by column, then row. */
  public List<Box> boxes() {
    return boxes;
  }

  /** Edges between distinct boxes, at most one per ordered pair, sorted by (from, to). */
  public List<Edge> edges() {
    return edges;
  }

  /** Number of nodes in the graph. */
  public int nodeCount() {
    return nodeCount;
  }

  /**
   * Groups and lays out {@code graph}.
   *
   * @param collapseNumbered whether more than {@value #FEW} scopes differing only by a trailing
   *     number (step_0, step_1, ...) share one box
   */
  public static ScopeGraph of(GraphDef graph, boolean collapseNumbered) {
    List<NodeDef> nodes = graph.getNodeList();
    Map<String, String> scopeOfNode = scopes(nodes);
    Map<String, String> boxOfScope =
        collapseNumbered ? collapse(scopeOfNode.values()) : identity(scopeOfNode.values());

    // Boxes in order of first appearance: GraphDefs list producers before consumers, so this order
    // is already close to the data flow and makes a good tie-breaker everywhere below.
    Map<String, Integer> index = new LinkedHashMap<>();
    Map<String, Set<String>> members = new HashMap<>();
    Map<String, Integer> counts = new HashMap<>();
    Map<String, Integer> boxOfNode = new HashMap<>();
    for (NodeDef n : nodes) {
      String scope = scopeOfNode.get(n.getName());
      String box = boxOfScope.get(scope);
      int b = index.computeIfAbsent(box, k -> index.size());
      boxOfNode.put(n.getName(), b);
      counts.merge(box, 1, Integer::sum);
      members.computeIfAbsent(box, k -> new LinkedHashSet<>()).add(scope);
    }
    int size = index.size();

    Map<Long, int[]> flow = new LinkedHashMap<>(); // (from, to) -> {data, control}
    for (NodeDef n : nodes) {
      int to = boxOfNode.get(n.getName());
      for (String input : n.getInputList()) {
        boolean control = input.startsWith("^");
        Integer from = boxOfNode.get(sourceNode(input));
        if (from != null && from != to) {
          flow.computeIfAbsent((long) from * size + to, k -> new int[2])[control ? 1 : 0]++;
        }
      }
    }
    List<List<Integer>> successors = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      successors.add(new ArrayList<>());
    }
    flow.keySet().forEach(k -> successors.get((int) (k / size)).add((int) (k % size)));
    successors.forEach(s -> s.sort(null));

    Set<Long> back = backEdges(successors);
    int[] column = columns(successors, back);
    int[] row = rows(successors, back, column);

    List<String> labels = new ArrayList<>(index.keySet());
    List<Box> unsorted = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String label = labels.get(i);
      List<String> m = List.copyOf(members.get(label));
      unsorted.add(new Box(label, m.get(0), m, counts.get(label), column[i], row[i]));
    }
    // Renumber boxes in (column, row) order so the list reads left to right.
    Integer[] order = new Integer[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order, Comparator.comparingInt((Integer i) -> column[i]).thenComparingInt(i -> row[i]));
    int[] newIndex = new int[size];
    List<Box> boxes = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      newIndex[order[i]] = i;
      boxes.add(unsorted.get(order[i]));
    }
    List<Edge> edges = new ArrayList<>();
    flow.forEach(
        (k, c) -> {
          int from = (int) (k / size);
          int to = (int) (k % size);
          edges.add(new Edge(newIndex[from], newIndex[to], c[0], c[1], back.contains(k)));
        });
    edges.sort(Comparator.comparingInt(Edge::from).thenComparingInt(Edge::to));
    return new ScopeGraph(List.copyOf(boxes), List.copyOf(edges), nodes.size());
  }

  /** The node an input refers to: without the control marker "^" and the output suffix ":N". */
  static String sourceNode(String input) {
    String name = input.startsWith("^") ? input.substring(1) : input;
    int colon = name.lastIndexOf(':');
    if (colon >= 0
        && colon + 1 < name.length()
        && name.substring(colon + 1).chars().allMatch(Character::isDigit)) {
      name = name.substring(0, colon);
    }
    return name;
  }

  /** Node name to scope: the name up to the first '/', with unscoped nodes pooled if many. */
  private static Map<String, String> scopes(List<NodeDef> nodes) {
    Map<String, String> scope = new LinkedHashMap<>();
    Set<String> prefixes = new HashSet<>();
    for (NodeDef n : nodes) {
      int slash = n.getName().indexOf('/');
      if (slash > 0) {
        prefixes.add(n.getName().substring(0, slash));
      }
    }
    List<String> loose = new ArrayList<>();
    for (NodeDef n : nodes) {
      String name = n.getName();
      int slash = name.indexOf('/');
      scope.put(name, slash > 0 ? name.substring(0, slash) : name);
      if (slash <= 0 && !prefixes.contains(name)) {
        loose.add(name); // a node named like a scope (e.g. "a" beside "a/b") joins that scope
      }
    }
    if (loose.size() > FEW) {
      loose.forEach(name -> scope.put(name, ROOT));
    }
    return scope;
  }

  private static Map<String, String> identity(Iterable<String> scopes) {
    Map<String, String> map = new HashMap<>();
    scopes.forEach(s -> map.put(s, s));
    return map;
  }

  /**
   * Scope to box label, merging families of more than {@value #FEW} numbered scopes. TensorFlow
   * uniquifies a repeated scope "step" as "step", "step_1", "step_2", so a bare "step" joins the
   * family "step_" as its number 0.
   */
  private static Map<String, String> collapse(Iterable<String> scopes) {
    Map<String, String> box = identity(scopes);
    Map<String, TreeMap<Long, String>> families = new HashMap<>();
    for (String s : box.keySet()) {
      Matcher m = NUMBERED.matcher(s);
      if (!s.equals(ROOT) && m.matches() && m.group(2).length() < 18) {
        families
            .computeIfAbsent(m.group(1), k -> new TreeMap<>())
            .put(Long.parseLong(m.group(2)), s);
      }
    }
    families.forEach(
        (prefix, family) -> {
          String bare = prefix.endsWith("_") ? prefix.substring(0, prefix.length() - 1) : null;
          if (bare != null && !bare.isEmpty() && box.containsKey(bare) && !family.containsKey(0L)) {
            family.put(0L, bare);
          }
          if (family.size() > FEW) {
            String label =
                family.firstEntry().getValue()
                    + ".."
                    + family.lastEntry().getValue()
                    + " (x"
                    + family.size()
                    + ")";
            family.values().forEach(s -> box.put(s, label));
          }
        });
    return box;
  }

  /**
   * Marks edges closing a cycle, found by depth-first search in box order (iterative: no stack
   * overflow).
   */
  private static Set<Long> backEdges(List<List<Integer>> successors) {
    int n = successors.size();
    Set<Long> back = new HashSet<>();
    int[] state = new int[n]; // 0 unvisited, 1 on the stack, 2 done
    int[] next = new int[n];
    for (int start = 0; start < n; start++) {
      if (state[start] != 0) {
        continue;
      }
      Deque<Integer> stack = new ArrayDeque<>();
      stack.push(start);
      state[start] = 1;
      while (!stack.isEmpty()) {
        int v = stack.peek();
        if (next[v] == successors.get(v).size()) {
          state[v] = 2;
          stack.pop();
          continue;
        }
        int w = successors.get(v).get(next[v]++);
        if (state[w] == 1) {
          back.add((long) v * n + w);
        } else if (state[w] == 0) {
          state[w] = 1;
          stack.push(w);
        }
      }
    }
    return back;
  }

  /** Longest-path layering of the graph without back edges: every forward edge goes right. */
  private static int[] columns(List<List<Integer>> successors, Set<Long> back) {
    int n = successors.size();
    int[] indegree = new int[n];
    for (int v = 0; v < n; v++) {
      for (int w : successors.get(v)) {
        if (!back.contains((long) v * n + w)) {
          indegree[w]++;
        }
      }
    }
    int[] column = new int[n];
    PriorityQueue<Integer> ready = new PriorityQueue<>();
    for (int v = 0; v < n; v++) {
      if (indegree[v] == 0) {
        ready.add(v);
      }
    }
    while (!ready.isEmpty()) {
      int v = ready.poll();
      for (int w : successors.get(v)) {
        if (!back.contains((long) v * n + w)) {
          column[w] = Math.max(column[w], column[v] + 1);
          if (--indegree[w] == 0) {
            ready.add(w);
          }
        }
      }
    }
    return column;
  }

  /** Rows within columns: first appearance, then one barycentre sweep to reduce crossings. */
  private static int[] rows(List<List<Integer>> successors, Set<Long> back, int[] column) {
    int n = column.length;
    int columns = 0;
    for (int c : column) {
      columns = Math.max(columns, c + 1);
    }
    List<List<Integer>> predecessors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      predecessors.add(new ArrayList<>());
    }
    for (int v = 0; v < n; v++) {
      for (int w : successors.get(v)) {
        if (!back.contains((long) v * n + w)) {
          predecessors.get(w).add(v);
        }
      }
    }
    int[] row = new int[n];
    for (int c = 0; c < columns; c++) {
      List<Integer> inColumn = new ArrayList<>();
      for (int v = 0; v < n; v++) {
        if (column[v] == c) {
          inColumn.add(v);
        }
      }
      double[] key = new double[n];
      for (int i = 0; i < inColumn.size(); i++) {
        int v = inColumn.get(i);
        key[v] = predecessors.get(v).stream().mapToInt(p -> row[p]).average().orElse(i);
      }
      inColumn.sort(Comparator.comparingDouble((Integer v) -> key[v]).thenComparingInt(v -> v));
      for (int i = 0; i < inColumn.size(); i++) {
        row[inColumn.get(i)] = i;
      }
    }
    return row;
  }
}
