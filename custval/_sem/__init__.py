"""Structural-equation machinery: the lavaan-syntax parser, the one model layer, ML/MLR
estimation, fit measures, modification indices, standardisation and the PLS algorithm."""
