// AllenCV's Cats-and-Dogs model: an ImageNet ResNet-50 fine-tuned at 224x224 pixels.
// Needs torchvision's resnet50 weights in the torch hub cache (or internet) and, to be quick, a GPU.
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
    "im2vec_encoder": {"type": "flatten", "input_channels": 2048, "input_height": 1, "input_width": 1}
  },
  "iterator": {"type": "basic", "batch_size": 16 * NUM_GPUS},
  "trainer": {
    "num_epochs": NUM_EPOCHS,
    "validation_metric": "+accuracy",
    "cuda_device": 0,
    "optimizer": {"type": "adam", "lr": 1e-3},
    "patience": 20
  }
}
