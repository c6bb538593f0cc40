/**
 * Templates: the rootfs a sandbox starts from and its settings. A {@link
 * dev.sbx.orchestrator.template.TemplateDirectory} holds one directory per template id ({@code
 * rootfs/} + {@code template.json}, read as {@link
 * dev.sbx.orchestrator.template.TemplateSettings}); {@link
 * dev.sbx.orchestrator.template.BaseTemplateBuilder} builds the {@code base} template from Debian
 * bookworm with mmdebstrap, from the host's own apt source ({@link
 * dev.sbx.orchestrator.template.DebianSource}).
 */
@NullMarked
package dev.sbx.orchestrator.template;

import org.jspecify.annotations.NullMarked;
