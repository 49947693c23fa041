// AllenCV's Cats-and-Dogs model: an ImageNet ResNet-50 fine-tuned at 224x224 pixels.
// Needs torchvision's resnet50 weights in the torch hub cache (or internet) and, to be quick, a GPU.
// Fine-tuning as ULMFiT: discriminative learning rates per layer group, gradual unfreezing and a
// slanted triangular schedule (Howard & Ruder 2018); see allencv_lite/training/learning_rate_schedulers.py.
//   TRAIN_PATH=.../train VALIDATION_PATH=.../val allencv-lite train training_config/cats_dogs_resnet50.jsonnet -s runs/resnet50
local NUM_GPUS = 1;
local NUM_EPOCHS = 5;
local NORMALIZE = {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]};
local RESIZE = {"type": "resize", "height": 224, "width": 224};

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [RESIZE, NORMALIZE, {"type": "flip", "p": 0.5}, {"type": "channel_shuffle", "p": 0.5}],
    "lazy": true
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [RESIZE, NORMALIZE],
    "lazy": true
  },
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "pretrained_resnet", "resnet_model": "resnet50", "requires_grad": true},
    "im2vec_encoder": {"type": "flatten", "input_height": 1, "input_width": 1}
  },
  "iterator": {"type": "basic", "batch_size": 16 * NUM_GPUS},
  "trainer": {
    "num_epochs": NUM_EPOCHS,
    "validation_metric": "+accuracy",
    "should_log_learning_rate": true,
    "cuda_device": if NUM_GPUS > 1 then std.range(0, NUM_GPUS - 1) else 0,
    // Six layer groups, bottom to top: stem (conv1, bn1), layer1 ... layer4, the head.
    "optimizer": {
      "type": "adam",
      "lr": 1e-5,
      "parameter_groups": [
        [["^_im2im_encoder\\.model\\.(0|1)"], {"initial_lr": 1e-5}],
        [["^_im2im_encoder\\.model\\.4"], {"initial_lr": 1e-5}],
        [["^_im2im_encoder\\.model\\.5"], {"initial_lr": 1e-5}],
        [["^_im2im_encoder\\.model\\.6"], {"initial_lr": 1e-5}],
        [["^_im2im_encoder\\.model\\.7"], {"initial_lr": 1e-5}],
        [["^_classification_layer"], {"initial_lr": 1e-5}]
      ]
    },
    // AllenCV's values, kept as the seed has them. The trainer reports two problems before
    // training: 2000 images at batch 16 make 125 steps per epoch, not 260 (125 is used), and
    // with six groups the stem would first train in epoch 6, so in 5 epochs it never does.
    "learning_rate_scheduler": {
      "type": "slanted_triangular",
      "num_epochs": NUM_EPOCHS,
      "num_steps_per_epoch": 260,
      "gradual_unfreezing": true,
      "discriminative_fine_tuning": true
    },
    "patience": 20
  }
}
