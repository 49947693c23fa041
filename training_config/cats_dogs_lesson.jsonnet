// The tutorial's fine-tuning run (notebook 04, on a sample of 150 training photos per class):
// cats_dogs_efficientnet_finetune.jsonnet made small enough to train twice inside a notebook on
// a 2-core CPU: 128 pixels, 3 epochs, 3 layer groups.
// Gradual unfreezing trains the classifier alone in epoch 1, adds the top of the backbone in
// epoch 2 and the rest in epoch 3; discriminative fine-tuning gives each lower group 0.38 × the
// learning rate of the group above (Howard & Ruder 2018, ULMFiT).
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_lesson.jsonnet -s runs/lesson
local SIZE = 128;  // pixels (the full recipe uses 160)
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};  // TensorFlow's EfficientNet-Lite input
local RESIZE = {"type": "resize", "height": SIZE, "width": SIZE};
local ENCODER = "^_im2im_encoder\\.model\\.";

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [RESIZE, {"type": "flip", "p": 0.5}, NORMALIZE],
    "lazy": false
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [RESIZE, NORMALIZE],
    "lazy": false
  },
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true, "channels_last": true},
    "im2vec_encoder": {"type": "global_average", "input_channels": 1280},
    "dropout": 0.2
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 3,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "should_log_learning_rate": true,
    "optimizer": {
      "type": "adamw",
      "lr": 1e-3,
      "weight_decay": 1e-4,
      "parameter_groups": [
        [[ENCODER + "(conv_stem|bn1)\\.", ENCODER + "blocks\\.[0-4]\\."]],
        [[ENCODER + "blocks\\.[56]\\.", ENCODER + "(conv_head|bn2)\\."]],
        [["^_classification_layer\\."]]
      ]
    },
    "learning_rate_scheduler": {
      "type": "slanted_triangular",
      "gradual_unfreezing": true,
      "discriminative_fine_tuning": true,
      "decay_factor": 0.38
    }
  }
}
