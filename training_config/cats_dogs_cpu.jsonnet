// Cats vs Dogs from scratch, sized for a laptop CPU: a small residual CNN at 96 px, label smoothing, one-cycle.
// Measured accuracy and time, with date, machine and load: benchmarks/RESULTS.md ("Recipes").
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_cpu.jsonnet -s runs/cats_dogs_cpu
local SIZE = 96;
local NORMALIZE = {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]};

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [
      {"type": "resize", "height": SIZE + 12, "width": SIZE + 12},
      {"type": "random_crop", "height": SIZE, "width": SIZE},
      {"type": "flip", "p": 0.5},
      {"type": "affine", "rotate": [-15, 15], "p": 0.5},
      {"type": "color_jitter", "brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.02, "p": 0.5},
      NORMALIZE
    ],
    "lazy": false
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [{"type": "resize", "height": SIZE, "width": SIZE}, NORMALIZE],
    "lazy": false
  },
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    // 96 px -> stem (stride 2) 48 -> stages 24, 12, 6, 3 -> (batch, 256, 3, 3)
    "im2im_encoder": {"type": "residual", "stem_channels": 24, "stem_stride": 2, "stage_channels": [32, 64, 128, 256]},
    "im2vec_encoder": {"type": "global_average"},
    "dropout": 0.2,
    "label_smoothing": 0.1
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 25,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "optimizer": {"type": "adamw", "lr": 2e-3, "weight_decay": 1e-4},
    // one cycle over all 25 epochs (per batch): a quarter of the steps rising to 2e-3, then a cosine down
    "learning_rate_scheduler": {"type": "one_cycle", "pct_start": 0.25}
  }
}
