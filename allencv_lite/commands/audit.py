"""``allencv-lite audit DATA_DIR``: label issues, duplicates and leakage, found out of sample."""
import argparse

from allencv_lite.commands.help_format import DefaultsHelpFormatter


def run_audit(args: argparse.Namespace) -> int:
    """Run the ``audit`` command: print the summary, optionally write ``audit.json``.

    Raises:
        ConfigurationError: see :func:`allencv_lite.audit.audit` and :meth:`AuditReport.save`.
    """
    from allencv_lite.audit import audit
    from allencv_lite.audit.report import check_output_file

    if args.output_file:
        check_output_file(args.output_file, args.data_dir)  # before the work, not after
    report = audit(args.data_dir, backbone=args.backbone, archive=args.archive, cache_folder=args.cache_dir,
                   folds=args.folds, seed=args.seed)
    print(report.summary(see=args.output_file or "the JSON that --output-file FILE writes"))
    if args.output_file:
        report.save(args.output_file)
        print(f"Findings written to {args.output_file} (proposals only: nothing in {args.data_dir} was changed).")
    return 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``audit`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser(
        "audit", formatter_class=DefaultsHelpFormatter, help="find label issues, duplicates and leakage in a dataset",
        description="Rank likely label errors by out-of-sample probabilities (K-fold logistic regression on "
                    "pretrained features, cleanlab), and find exact and near duplicates and train/validation "
                    "leakage. DATA_DIR is <label>/<image>, or train/ and val/ laid out so. Nothing in DATA_DIR "
                    "is changed; see docs/audit.md.")
    parser.add_argument("data_dir", help="folder with one sub-folder of images per label, or train/ and val/")
    parser.add_argument("--output-file", default=None, help="write the findings as JSON here (outside DATA_DIR)")
    parser.add_argument("--backbone", default="efficientnet_lite0",
                        help="offline pretrained features: efficientnet_lite0 or efficientnet_lite2")
    parser.add_argument("--archive", default=None, help="take features from this trained model.tar.gz instead")
    parser.add_argument("--cache-dir", default=None,
                        help="feature cache folder (default $XDG_CACHE_HOME/allencv_lite/features, "
                             "else ~/.cache/allencv_lite/features)")
    parser.add_argument("--folds", type=int, default=5, help="folds of the stratified cross-validation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds")
    parser.set_defaults(func=run_audit)
    return parser
