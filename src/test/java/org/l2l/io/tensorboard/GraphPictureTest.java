package org.l2l.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class GraphPictureTest {

  @TempDir Path dir;

  private static NodeDef node(String name, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp("Op").addAllInput(List.of(inputs)).build();
  }

  /** Parsed picture: box label -> element, and arrows as "from->to" (+ " control" if dashed). */
  private record Picture(Map<String, Element> boxes, Set<String> arrows) {}

  private Picture draw(GraphDef g, java.util.function.Function<String, String> category)
      throws Exception {
    Path svg = dir.resolve("pics/graph.svg");
    GraphPicture.write(g, svg, category);
    try (Stream<Path> files = Files.list(svg.getParent())) {
      assertEquals(List.of(svg), files.toList(), "no temporary file left behind");
    }
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document doc = f.newDocumentBuilder().parse(svg.toFile());
    Element root = doc.getDocumentElement();
    assertEquals("svg", root.getLocalName());
    assertEquals("http://www.w3.org/2000/svg", root.getNamespaceURI());
    assertEquals("sans-serif", root.getAttribute("font-family"));
    Map<String, Element> boxes = new HashMap<>();
    Set<String> arrows = new TreeSet<>();
    NodeList gs = doc.getElementsByTagNameNS("*", "g");
    for (int i = 0; i < gs.getLength(); i++) {
      Element e = (Element) gs.item(i);
      if (e.getAttribute("class").equals("box")) {
        boxes.put(e.getAttribute("data-scope"), e);
      }
    }
    NodeList paths = doc.getElementsByTagNameNS("*", "path");
    for (int i = 0; i < paths.getLength(); i++) {
      Element e = (Element) paths.item(i);
      if (e.getAttribute("class").startsWith("edge")) {
        assertEquals("url(#arrow)", e.getAttribute("marker-end"));
        boolean dashed = !e.getAttribute("stroke-dasharray").isEmpty();
        assertEquals(dashed, e.getAttribute("class").equals("edge control"));
        arrows.add(
            e.getAttribute("data-from")
                + "->"
                + e.getAttribute("data-to")
                + (dashed ? " control" : ""));
      }
    }
    assertEquals(1, doc.getElementsByTagNameNS("*", "marker").getLength());
    return new Picture(boxes, arrows);
  }

  private static List<String> texts(Element box) {
    NodeList t = box.getElementsByTagNameNS("*", "text");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < t.getLength(); i++) {
      out.add(t.item(i).getTextContent());
    }
    return out;
  }

  @Test
  void scopesBecomeBoxesWithDataAndControlArrows() throws Exception {
    GraphDef g =
        GraphDef.newBuilder()
            .addNode(node("input/x"))
            .addNode(node("input/y"))
            .addNode(node("model/w"))
            .addNode(node("model/matmul", "input/x:0", "model/w"))
            .addNode(node("loss/sq", "model/matmul:0"))
            .addNode(node("loss/mean", "loss/sq", "^input/y"))
            .addNode(node("init", "^model/w"))
            .addNode(node("a<b&c", "loss/mean")) // an odd but legal-looking name must be escaped
            .build();
    Picture p = draw(g, scope -> null);
    assertEquals(Set.of("input", "model", "loss", "init", "a<b&c"), p.boxes().keySet());
    assertEquals(List.of("model", "2 nodes"), texts(p.boxes().get("model")));
    assertEquals(List.of("init", "1 node"), texts(p.boxes().get("init")));
    assertEquals(
        Set.of(
            "input->model",
            "model->loss",
            "input->loss control",
            "model->init control",
            "loss->a<b&c"),
        p.arrows());

    ScopeGraph sg = ScopeGraph.of(g, true);
    Map<String, Integer> column =
        sg.boxes().stream()
            .collect(Collectors.toMap(ScopeGraph.Box::label, ScopeGraph.Box::column));
    assertEquals(Map.of("input", 0, "model", 1, "loss", 2, "init", 2, "a<b&c", 3), column);
  }

  @Test
  void manyUnscopedNodesArePooledAndNumberedScopesCollapse() throws Exception {
    GraphDef.Builder g = GraphDef.newBuilder();
    for (String loose : List.of("Const", "Const_1", "Placeholder", "Init")) {
      g.addNode(node(loose));
    }
    g.addNode(node("optimizer/lstm", "Const"));
    String previous = "Placeholder";
    for (int i = 0; i < 20; i++) {
      g.addNode(node("step_" + i + "/f/add", previous, "optimizer/lstm:1"));
      g.addNode(node("step_" + i + "/update", "step_" + i + "/f/add"));
      previous = "step_" + i + "/update";
    }
    g.addNode(node("meta_optimizer/adam", previous));
    g.addNode(
        node(
            "optimizer/apply",
            "meta_optimizer/adam")); // closes a cycle optimizer -> steps -> meta -> optimizer
    g.addNode(node("few_1/a"))
        .addNode(node("few_2/a")); // only two numbered siblings: not collapsed

    Map<String, String> categories =
        Map.of("step_0", "optimizee", "optimizer", "optimizer", "meta_optimizer", "meta-optimizer");
    Picture p = draw(g.build(), categories::get);
    String steps = "step_0..step_19 (x20)";
    assertEquals(
        Set.of("(root)", "optimizer", steps, "meta_optimizer", "few_1", "few_2"),
        p.boxes().keySet());
    assertEquals(List.of(steps, "40 nodes", "optimizee"), texts(p.boxes().get(steps)));
    assertEquals(List.of("(root)", "4 nodes"), texts(p.boxes().get("(root)")));
    assertEquals("meta-optimizer", p.boxes().get("meta_optimizer").getAttribute("data-category"));
    assertEquals(
        Set.of(
            "(root)->optimizer",
            "(root)->" + steps,
            "optimizer->" + steps,
            steps + "->meta_optimizer",
            "meta_optimizer->optimizer"),
        p.arrows());

    // Categories get distinct colours; uncategorized boxes share the neutral one.
    Set<String> fills = new TreeSet<>();
    for (String label : List.of(steps, "optimizer", "meta_optimizer")) {
      fills.add(
          ((Element) p.boxes().get(label).getElementsByTagNameNS("*", "rect").item(0))
              .getAttribute("fill"));
    }
    assertEquals(3, fills.size());

    ScopeGraph sg = ScopeGraph.of(g.build(), true);
    List<ScopeGraph.Edge> backward = sg.edges().stream().filter(ScopeGraph.Edge::backward).toList();
    assertEquals(1, backward.size(), "exactly one edge is needed to break the cycle");
    for (ScopeGraph.Edge e : sg.edges()) {
      int from = sg.boxes().get(e.from()).column();
      int to = sg.boxes().get(e.to()).column();
      assertTrue(
          e.backward() ? to < from : from < to,
          "forward edges go right, the cycle-closing one left");
    }
    assertEquals(
        20,
        ScopeGraph.of(g.build(), false).boxes().stream()
            .filter(b -> b.label().startsWith("step_"))
            .count());
  }

  @Test
  void fewUnscopedNodesKeepTheirOwnBoxesAndBareScopeJoinsItsFamily() {
    GraphDef.Builder g = GraphDef.newBuilder().addNode(node("x")).addNode(node("y", "x:0"));
    g.addNode(node("step/a", "y")); // TensorFlow names a repeated scope step, step_1, step_2, ...
    for (int i = 1; i <= 4; i++) {
      g.addNode(node("step_" + i + "/a", "y"));
    }
    ScopeGraph sg = ScopeGraph.of(g.build(), true);
    assertEquals(
        List.of("x", "y", "step..step_4 (x5)"),
        sg.boxes().stream().map(ScopeGraph.Box::label).toList());
    assertEquals("step", sg.boxes().get(2).scope());
    assertEquals(5, sg.boxes().get(2).nodeCount());
    assertEquals(
        List.of(new ScopeGraph.Edge(0, 1, 1, 0, false), new ScopeGraph.Edge(1, 2, 5, 0, false)),
        sg.edges());
    assertEquals("step_3", ScopeGraph.sourceNode("^step_3"));
    assertEquals("a/b", ScopeGraph.sourceNode("a/b:12"));
  }

  @Test
  void emptyGraphStillGivesAValidPicture() throws Exception {
    Picture p = draw(GraphDef.getDefaultInstance(), scope -> "ignored");
    assertTrue(p.boxes().isEmpty());
    assertTrue(p.arrows().isEmpty());
  }
}
