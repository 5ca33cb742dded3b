package org.l2l.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One split of MNIST in memory: images scaled to [0, 1] and their digit labels.
 *
 * <p>Arrays are held as given, not copied, because the training split is 188 MB of floats;
 * callers must not modify them.
 *
 * @param images {@code count * rows * cols} pixel values in [0, 1] (byte value / 255),
 *               image-major then row-major
 * @param labels {@code count} digit labels 0..9
 * @param count  number of images
 * @param rows   rows per image (28 for MNIST)
 * @param cols   columns per image (28 for MNIST)
 */
public record MnistData(float[] images, int[] labels, int count, int rows, int cols) {

    /** Base name of the training images file. */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    /** Base name of the training labels file. */
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    /** Base name of the test images file. */
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    /** Base name of the test labels file. */
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** The four base names, each of which may also be present with {@link #GZIP_SUFFIX}. */
    public static final List<String> FILE_NAMES =
            List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);
    /** Suffix of the gzipped variant of a file, as distributed by the canonical mirrors. */
    public static final String GZIP_SUFFIX = ".gz";
    /** Largest pixel byte value; dividing by it maps pixels onto [0, 1]. */
    public static final float MAX_PIXEL = 255f;

    private static final int UNSIGNED_BYTE_VALUES = 256;
    private static final int UNSIGNED_BYTE_MASK = 0xFF;
    /**
     * byte value -> value / 255, computed once so conversion of 47 million pixels is a table
     * lookup and yields exactly {@code b / 255f}.
     */
    private static final float[] SCALED = new float[UNSIGNED_BYTE_VALUES];

    static {
        for (int b = 0; b < UNSIGNED_BYTE_VALUES; b++) {
            SCALED[b] = b / MAX_PIXEL;
        }
    }

    /** A pixel byte as a value in [0, 1]: exactly {@code (b & 0xFF) / 255f}. */
    static float scaled(byte b) {
        return SCALED[b & UNSIGNED_BYTE_MASK];
    }

    /** Validates that the array lengths match the declared shape. */
    public MnistData {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("invalid shape: " + count + " images of "
                    + rows + "x" + cols);
        }
        if (images.length != (long) count * rows * cols || labels.length != count) {
            throw new IllegalArgumentException("arrays do not match " + count + " images of "
                    + rows + "x" + cols + ": " + images.length + " pixels, " + labels.length
                    + " labels");
        }
    }

    /** Summarises the shape; the default would print array identities. */
    @Override
    public String toString() {
        return "MnistData[count=" + count + ", rows=" + rows + ", cols=" + cols + "]";
    }

    /** @return pixels per image, {@code rows * cols} (784 for MNIST) */
    public int imageSize() {
        return rows * cols;
    }

    /**
     * @param index image index, 0 &lt;= index &lt; count
     * @return a copy of one image's pixels, row-major
     */
    public float[] image(int index) {
        Objects.checkIndex(index, count);
        float[] out = new float[imageSize()];
        System.arraycopy(images, index * imageSize(), out, 0, out.length);
        return out;
    }

    /**
     * Loads both MNIST splits from a directory holding the four standard IDX files
     * ({@link #FILE_NAMES}), each plain or with {@link #GZIP_SUFFIX}, and checks that each is the
     * canonical MNIST file ({@link MnistChecksums#CANONICAL}).
     *
     * @param dataDir the directory, e.g. {@code data/mnist}
     * @return the training and test splits
     * @throws DataException if a file is missing, malformed or not the canonical MNIST file, or
     *                       image and label counts differ
     */
    public static Mnist load(Path dataDir) {
        return load(dataDir, MnistChecksums.CANONICAL);
    }

    /**
     * As {@link #load(Path)}, checking the files against {@code sums} instead, so that tests can
     * use small generated files.
     */
    static Mnist load(Path dataDir, MnistChecksums sums) {
        return load(dataDir, sums, "MNIST");
    }

    /**
     * As {@link #load(Path)} for any data set distributed as the four MNIST-named IDX files
     * (Fashion-MNIST), checking the files against {@code sums}.
     *
     * @param dataset the data set's name in messages, e.g. "Fashion-MNIST"
     */
    static Mnist load(Path dataDir, MnistChecksums sums, String dataset) {
        return new Mnist(loadSplit(dataDir, TRAIN_IMAGES, TRAIN_LABELS, sums, dataset),
                loadSplit(dataDir, TEST_IMAGES, TEST_LABELS, sums, dataset));
    }

    /**
     * Loads one split from an image file and a label file. No checksum is checked: these may be
     * any IDX files.
     *
     * @param imagesFile IDX image file, plain or gzipped
     * @param labelsFile IDX label file with digit labels, plain or gzipped
     * @return the split with pixels scaled to [0, 1]
     * @throws DataException if a file is malformed or the two counts differ
     */
    public static MnistData load(Path imagesFile, Path labelsFile) {
        return fromIdx(imagesFile, Idx.readImages(imagesFile), labelsFile,
                Idx.readLabels(labelsFile, true));
    }

    private static MnistData fromIdx(Path imagesFile, Idx.Images raw, Path labelsFile,
            int[] labels) {
        if (labels.length != raw.count()) {
            throw new DataException(labelsFile + ": " + labels.length + " labels but "
                    + imagesFile + " has " + raw.count() + " images");
        }
        byte[] pixels = raw.pixels();
        float[] images = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            images[i] = scaled(pixels[i]);
        }
        return new MnistData(images, labels, raw.count(), raw.rows(), raw.cols());
    }

    private static MnistData loadSplit(Path dataDir, String imagesName, String labelsName,
            MnistChecksums sums, String dataset) {
        Path imagesFile = require(dataDir, imagesName, dataset);
        Path labelsFile = require(dataDir, labelsName, dataset);
        byte[] imageBytes = Idx.readContent(imagesFile);
        Idx.Images raw = Idx.parseImages(imagesFile, imageBytes);
        check(imagesFile, imagesName, imageBytes, sums, dataset);
        byte[] labelBytes = Idx.readContent(labelsFile);
        int[] labels = Idx.parseLabels(labelsFile, labelBytes, true);
        check(labelsFile, labelsName, labelBytes, sums, dataset);
        return fromIdx(imagesFile, raw, labelsFile, labels);
    }

    /**
     * Checked after parsing, so that a cut-off or malformed file is reported as such rather than
     * by its checksum alone.
     */
    private static void check(Path file, String baseName, byte[] content, MnistChecksums sums,
            String dataset) {
        String mismatch = sums.mismatch(baseName, content);
        if (mismatch != null) {
            throw new DataException(file + ": not the " + dataset + " file " + baseName + ": "
                    + mismatch + "; replace it with the original, or delete it to have "
                    + dataset + " fetched again");
        }
    }

    private static Path require(Path dataDir, String baseName, String dataset) {
        Path found = find(dataDir, baseName);
        if (found == null) {
            String where = Files.isDirectory(dataDir) ? dataDir.toString()
                    : dataDir + " (no such directory)";
            throw new DataException(where + ": " + baseName + " (or " + baseName + GZIP_SUFFIX
                    + ") not found; let the program fetch " + dataset + " or pass the directory"
                    + " holding the four " + dataset + " files with --data-dir");
        }
        return found;
    }

    /**
     * Finds a file by base name in {@code dataDir}, preferring the plain file to the gzipped one
     * (it is read without inflating).
     *
     * @return the existing regular file, or {@code null} if neither variant exists
     */
    static Path find(Path dataDir, String baseName) {
        Path plain = dataDir.resolve(baseName);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        Path gz = dataDir.resolve(baseName + GZIP_SUFFIX);
        return Files.isRegularFile(gz) ? gz : null;
    }
}
