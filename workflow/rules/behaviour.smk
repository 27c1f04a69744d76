# behaviour stage: rules are added by the stage's owner.
