/**
 * Templates: the rootfs a sandbox starts from. For now a {@link
 * dev.sbx.orchestrator.template.TemplateDirectory} holds one prepared rootfs directory per template
 * id; building templates (the {@code base} template with mmdebstrap) and their settings come later.
 */
@NullMarked
package dev.sbx.orchestrator.template;

import org.jspecify.annotations.NullMarked;
