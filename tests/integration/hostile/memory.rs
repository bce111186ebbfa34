//! Memory that must not grow with the square of the controls or with every output at once.
