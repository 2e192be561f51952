#ifndef COCOON_RENDER_H
#define COCOON_RENDER_H
#include <stdio.h>
/* Renders a JSON object as indented "key: value" lines for people. */
void cocoon_render_text(FILE *out, const char *json);
#endif
