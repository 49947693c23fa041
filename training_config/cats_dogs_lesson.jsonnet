// The tutorial's fine-tuning run (notebook 04, on a sample of 150 training photos per class):
// ULMFiT-style fine-tuning small enough to train twice inside a notebook on a 2-core CPU: 192
// pixels, 2 epochs, the bottom of the backbone frozen, 2 layer groups above it (the full recipe,
// cats_dogs_efficientnet_finetune.jsonnet, now fits its classifier by a linear probe first and
// trains at 224 px). 5-fold cross-validated: 98.00 % (benchmarks/RESULTS.md).
// Gradual unfreezing trains the classifier alone in epoch 1 and adds the top of the backbone
// (stages 5-6 and the head convolution) in epoch 2; discriminative fine-tuning gives that group
// 0.1 × the classifier's learning rate (Howard & Ruder 2018, ULMFiT, use 1/2.6 = 0.38 per layer;
// this group is seven blocks, and at 0.38 its first step threw the training loss to 4.9).
// Measured accuracy and time, with date, machine and load: benchmarks/RESULTS.md ("Recipes").
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_lesson.jsonnet -s runs/lesson
local SIZE = 192;  // pixels, as the full recipe; at 160 the same run got 97.6 %, at 128 95.2 % of the 500 val photos
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};  // TensorFlow's EfficientNet-Lite input
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
    // freeze_batch_norm: batches of 32 new images must not replace ImageNet's normalization statistics
    // (without it, the 128-pixel run of this lesson got 91 % of the 500 val photos, with it 95.2 %).
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true, "channels_last": true,
                      "freeze_batch_norm": true},
    "im2vec_encoder": {"type": "global_average"},
    "dropout": 0.2
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 2,
    // The sample's 100 val photos make accuracy jump by whole photos; the loss picks the best epoch more surely.
    "validation_metric": "-loss",
    "cuda_device": -1,
    "should_log_learning_rate": true,
    // The stem and stages 0-4 keep their ImageNet weights: training them costs most of the time (the
    // backward pass through the high-resolution layers) and gained nothing in docs/fine_tuning.md.
    "no_grad": [ENCODER + "(conv_stem|bn1)\\.", ENCODER + "blocks\\.[0-4]\\."],
    "optimizer": {
      "type": "adamw",
      "lr": 0.0039,  // the valley suggestion of the learning-rate finder in notebook 04
      "weight_decay": 1e-4,
      "parameter_groups": [
        [[ENCODER + "blocks\\.[56]\\.", ENCODER + "(conv_head|bn2)\\."]],
        [["^_classification_layer\\."]]
      ]
    },
    "learning_rate_scheduler": {
      "type": "slanted_triangular",
      "gradual_unfreezing": true,
      "discriminative_fine_tuning": true,
      "decay_factor": 0.1
    }
  }
}
