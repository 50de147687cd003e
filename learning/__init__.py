"""Learning from this deployment: clinician feedback stored safely, knowledge updates built from confirmed
diagnoses, checked on held-out cases before they are used, every version kept and any one restorable."""
