package org.l2l.data;

import java.util.Objects;

/**
 * The MNIST data set: the standard 60,000-image training split and 10,000-image test split.
 *
 * @param train the training split ({@code train-*} files)
 * @param test  the test split ({@code t10k-*} files)
 */
public record Mnist(MnistData train, MnistData test) {

    /** Validates that both splits are present and have the same image shape. */
    public Mnist {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        if (train.rows() != test.rows() || train.cols() != test.cols()) {
            throw new DataException("MNIST splits differ in image size: train "
                    + train.rows() + "x" + train.cols() + ", test "
                    + test.rows() + "x" + test.cols());
        }
    }
}
