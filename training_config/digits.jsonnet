// The embedded default: scikit-learn's handwritten digits (8x8 scans) with a small CNN.
// Make the data with `python data_scripts/make_digits_dataset.py data/digits`, then
//   TRAIN_PATH=data/digits/train VALIDATION_PATH=data/digits/val \
//     allencv-lite train training_config/digits.jsonnet -s runs/digits
local SIZE = 32;  // pixels; the 8x8 scans are upsampled so the CNN has room for 3 poolings

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [
      {"type": "resize", "height": SIZE, "width": SIZE},
      {"type": "affine", "rotate": [-10, 10], "scale": [0.9, 1.1], "p": 0.5},
      {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    ],
    "lazy": false
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [
      {"type": "resize", "height": SIZE, "width": SIZE},
      {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    ],
    "lazy": false
  },
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "feedforward", "hidden_channels": [16, 32, 64]},
    "im2vec_encoder": {"type": "flatten", "input_height": 1, "input_width": 1}
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 15,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "optimizer": {"type": "adam", "lr": 3e-3},
    "patience": 5
  }
}
