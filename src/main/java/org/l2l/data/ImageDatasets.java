package org.l2l.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.l2l.UserError;

/**
 * The image classification data sets by name: CIFAR-10 (the paper's convolutional experiment),
 * Fashion-MNIST (its stand-in where CIFAR-10 cannot be fetched) and MNIST.
 */
public final class ImageDatasets {

    /** The names {@link #load} accepts, as given with {@code --dataset}. */
    public static final List<String> NAMES = List.of(Cifar10.NAME, FashionMnist.NAME, "mnist");

    private record Key(String name, Path dir) {
    }

    private static final Map<Key, ImageDataset> LOADED = new ConcurrentHashMap<>();

    private ImageDatasets() {
    }

    /**
     * Fetches the data set named {@code name} into {@code dir} if its files are absent and
     * loads it, once per name and folder per process (later calls return the same instance).
     * CIFAR-10 goes through {@link Cifar10Fetcher} and {@link Cifar10}, Fashion-MNIST through
     * {@link FashionMnist}, MNIST through {@link MnistFetcher} and {@link MnistData} (checked
     * against its pinned sums).
     *
     * @param name one of {@link #NAMES}
     * @param dir  the data directory, e.g. {@link #defaultDir}
     * @param log  receives progress lines while fetching
     * @throws UserError     if {@code name} is not one of {@link #NAMES}
     * @throws DataException if the files cannot be obtained or are malformed
     */
    public static ImageDataset load(String name, Path dir, Consumer<String> log) {
        if (!NAMES.contains(name)) {
            throw UserError.flag("--dataset", name, "must be one of " + String.join(", ", NAMES));
        }
        return LOADED.computeIfAbsent(new Key(name, dir.toAbsolutePath().normalize()),
                key -> fetchAndLoad(name, dir, log));
    }

    private static final Map<Path, Mnist> MNIST = new ConcurrentHashMap<>();

    /**
     * MNIST itself, fetched into {@code dir} if absent and loaded once per folder per process:
     * the one cache behind {@code --problem mnist} and {@code --dataset mnist}.
     */
    public static Mnist mnist(Path dir, Consumer<String> log) {
        return MNIST.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> {
            MnistFetcher.ensure(dir, log);
            return MnistData.load(dir);
        });
    }

    /** The usual data directory of a data set, {@code data/NAME} under the working directory. */
    public static Path defaultDir(String name) {
        return Path.of("data", name);
    }

    private static ImageDataset fetchAndLoad(String name, Path dir, Consumer<String> log) {
        switch (name) {
            case Cifar10.NAME -> {
                Cifar10Fetcher.ensure(dir, log);
                return Cifar10.load(dir);
            }
            case FashionMnist.NAME -> {
                FashionMnist.ensure(dir, log);
                return of(name, FashionMnist.load(dir));
            }
            default -> {
                return of(name, mnist(dir, log));
            }
        }
    }

    private static ImageDataset of(String name, Mnist m) {
        return new ImageDataset(name, Images.of(m.train()), Images.of(m.test()));
    }
}
