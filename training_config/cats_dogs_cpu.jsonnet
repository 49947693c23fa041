// Cats vs Dogs from scratch, sized for a laptop CPU (about 5 minutes on 2 cores, ~75 % val accuracy).
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_cpu.jsonnet -s runs/cats_dogs_cpu
local SIZE = 64;  // pixels; JPEGs are decoded at reduced scale (Pillow's draft mode) to about this size
local NORMALIZE = {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]};

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [
      {"type": "resize", "height": SIZE, "width": SIZE},
      NORMALIZE,
      {"type": "flip", "p": 0.5}
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
    "im2im_encoder": {"type": "feedforward", "hidden_channels": [32, 64, 128, 256]},
    "im2vec_encoder": {"type": "flatten", "input_channels": 256, "input_height": 1, "input_width": 1},
    "dropout": 0.2
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 20,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "optimizer": {"type": "adamw", "lr": 2e-3, "weight_decay": 1e-4},
    "patience": 6
  }
}
