package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.l2l.cli.CliTest.assertUsageError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.data.CifarFiles;
import org.l2l.io.Csv;
import org.l2l.io.OptimizerFile;

/** The convolutional problem end to end on CIFAR-10 files generated in the standard format. */
class ConvCliTest {

  @TempDir Path tmp;

  @Test
  @Tag("slow")
  void cifarMultiTrainsAndEvaluatesOnGeneratedFiles() throws IOException {
    Path data = tmp.resolve("cifar");
    CifarFiles.write(data, 30, 4);
    Path ck = tmp.resolve("ck");
    CliTest.Printed train = CliTest.runPrinting("train", "--problem", "conv", "--dataset",
        "cifar10", "--data-dir", data.toString(), "--rules", "conv=lstm,fc=lstm", "--epochs",
        "2", "--num-steps", "4", "--unroll-length", "2", "--batch-size", "4", "--eval-every",
        "2", "--eval-instances", "2", "--layers", "1", "--hidden-size", "4", "--labels", "0-4",
        "--run", "c", "--checkpoint-dir", ck.toString(), "--no-tensorboard");
    assertEquals(0, train.code(), train.err() + train.out());
    assertEquals(2, Csv.read(ck.resolve("c/metrics.csv")).rows().size());
    OptimizerFile.Loaded file = OptimizerFile.read(ck.resolve("c/best/optimizer.l2lw"));
    assertEquals(List.of("lstm_conv", "lstm_fc"), file.learned().stream()
        .map(OptimizerFile.TrainedRule::scope).toList());
    String config = Files.readString(ck.resolve("c/config.json"));
    assertTrue(config.contains("\"labels\": \"0,1,2,3,4\""), config);
    assertTrue(config.contains("\"dataset\": \"cifar10\""), config);

    // "LSTM-sub": evaluated on the other labels, against Adam.
    Path out = tmp.resolve("res");
    CliTest.Printed evaluate = CliTest.runPrinting("evaluate", "--problem", "conv", "--dataset",
        "cifar10", "--data-dir", data.toString(), "--labels", "5-9", "--batch-size", "4",
        "--optimizer", ck.resolve("c").toString(), "--baselines", "adam", "--learning-rates",
        "adam=0.01", "--num-steps", "4", "--instances", "2", "--out", out.toString(),
        "--no-tensorboard");
    assertEquals(0, evaluate.code(), evaluate.err() + evaluate.out());
    Csv.Table losses = Csv.read(out.resolve("losses.csv"));
    assertEquals(2 * 5, losses.rows().size(), "two optimizers, steps 0..4");
    for (List<String> row : losses.rows()) {
      assertTrue(Double.isFinite(Double.parseDouble(row.get(2))), row.toString());
    }
  }

  @Test
  void badCifarFilesAndLabelsAreOneLine() throws IOException {
    Path data = tmp.resolve("cifar");
    CifarFiles.write(data, 3, 4);
    Path test = data.resolve("test_batch.bin");
    byte[] bytes = Files.readAllBytes(test);
    Files.write(test, java.util.Arrays.copyOf(bytes, bytes.length - 10));
    assertUsageError("test_batch.bin", "evaluate", "--problem", "conv", "--dataset", "cifar10",
        "--data-dir", data.toString(), "--baselines", "sgd", "--learning-rates", "sgd=0.1",
        "--out", tmp.resolve("o").toString());
    assertUsageError("--labels 10: a list of classes 0..9 and ranges, e.g. 0-4 or 5,6", "train",
        "--problem", "conv", "--labels", "10", "--checkpoint-dir", tmp.resolve("ck").toString());
    assertUsageError("--dataset svhn: unknown; allowed: cifar10, fashion-mnist, mnist", "train",
        "--problem", "conv", "--dataset", "svhn", "--checkpoint-dir",
        tmp.resolve("ck").toString());
  }
}
